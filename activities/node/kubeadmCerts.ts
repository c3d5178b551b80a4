import type { ClusterOps } from '../cluster';
import { PreconditionError, lastLines } from '../errors';
import { shScript } from '../ssh/quote';
import { certInfo, type Renewed } from './certs';

/**
 * The certificates of a stacked etcd member that kubeadm renews, by kubeadm's name, with their
 * files under the PKI dir (`<file>.crt`, `<file>.key`) and the kind a run reports: the member's
 * serving and peer certificates, the liveness probe's client, and its apiserver's etcd client.
 * Source: kubeadm docs "Certificate Management with kubeadm" (kubeadm certs renew).
 */
export const KUBEADM_ETCD_CERTS = [
  { name: 'etcd-server', file: 'etcd/server', kind: 'server' },
  { name: 'etcd-peer', file: 'etcd/peer', kind: 'peer' },
  { name: 'etcd-healthcheck-client', file: 'etcd/healthcheck-client', kind: 'healthcheck-client' },
  { name: 'apiserver-etcd-client', file: 'apiserver-etcd-client', kind: 'client' },
] as const;

/**
 * kubeadm's certificate dir, from the inventory's etcd CA file (`<dir>/etcd/ca.crt`, kubeadm's
 * layout). Throws PreconditionError for another layout: kubeadm would renew files the members do
 * not use.
 */
export function kubeadmPkiDir(ops: ClusterOps): string {
  const m = /^(\/.*)\/etcd\/ca\.crt$/.exec(ops.inv.tls.caFile);
  if (!m) throw new PreconditionError(`the inventory's tls.caFile ${ops.inv.tls.caFile} is not kubeadm's <certificatesDir>/etcd/ca.crt: kubeadm certs renew would not renew the files etcd uses`);
  return m[1];
}

const SEP = '@@etcd-runbooks@@';

/**
 * Renews the node's etcd certificates with `kubeadm certs renew <name>` (kubeadm signs with the
 * etcd CA on the node and keeps subject and SANs; it makes a new key), each pair first kept as
 * `<file>.{crt,key}.before-<tag>`. Idempotent: a certificate that differs from the one kept by
 * this run was renewed already. Returns each certificate's expiry before and after (ISO-8601).
 * Throws CommandFailedError when kubeadm refuses. Source: kubeadm docs "Certificate Management
 * with kubeadm" (Manual certificate renewal).
 */
export async function renewKubeadmCerts(ops: ClusterOps, node: string, tag: string): Promise<Renewed[]> {
  const pki = kubeadmPkiDir(ops);
  const renewed: Renewed[] = [];
  for (const c of KUBEADM_ETCD_CERTS) {
    const crt = `${pki}/${c.file}.crt`;
    const saved = `${crt}.before-${tag}`;
    const [currentPem, savedPem] = (await ops.runOk(node, shScript('cat -- "$1"; echo "$3"; [ ! -e "$2" ] || cat -- "$2"', crt, saved, SEP))).stdout.split(SEP);
    const current = certInfo(currentPem);
    if (savedPem.includes('BEGIN CERTIFICATE') && certInfo(savedPem).fingerprint !== current.fingerprint) {
      renewed.push({ kind: c.kind, before: certInfo(savedPem).notAfter, after: current.notAfter, already: true });
      continue;
    }
    await ops.runOk(node, shScript('for f in "$1.key" "$1.crt"; do [ -e "$f.before-$2" ] || cp -p -- "$f" "$f.before-$2" || exit; done', `${pki}/${c.file}`, tag));
    const r = await ops.runOk(node, ['kubeadm', 'certs', 'renew', c.name, `--cert-dir=${pki}`], { timeoutMs: 60_000 });
    const after = certInfo((await ops.runOk(node, ['cat', '--', crt])).stdout);
    // kubeadm exits 0 without renewing when it cannot (an external CA: no CA key on the node).
    if (after.fingerprint === current.fingerprint) throw new PreconditionError(`${node}: kubeadm certs renew ${c.name} left ${crt} as it was (kubeadm: ${lastLines(r.stdout.trim() || r.stderr, 1).trim()})`);
    renewed.push({ kind: c.kind, before: current.notAfter, after: after.notAfter, already: false });
  }
  return renewed;
}

/**
 * Puts back the pairs kept by renewKubeadmCerts(…, tag): key and certificate, each by one rename.
 * Returns the kinds put back (none when nothing was kept). Idempotent.
 */
export async function restoreKubeadmCerts(ops: ClusterOps, node: string, tag: string): Promise<string[]> {
  const pki = kubeadmPkiDir(ops);
  const restored: string[] = [];
  for (const c of KUBEADM_ETCD_CERTS) {
    const r = await ops.runOk(node, shScript(`
      [ -e "$1.crt.before-$2" ] || [ -e "$1.key.before-$2" ] || { echo same; exit 0; }
      for f in "$1.key" "$1.crt"; do [ ! -e "$f.before-$2" ] || mv -f -- "$f.before-$2" "$f" || exit; done
      echo restored`, `${pki}/${c.file}`, tag));
    if (r.stdout.trim() === 'restored') restored.push(c.kind);
  }
  return restored;
}
