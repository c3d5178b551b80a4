import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { readRootOwned } from '../../config/rootOwned';
import type { ClusterOps } from '../cluster';
import { CommandFailedError, PreconditionError, lastLines } from '../errors';
import { shScript } from '../ssh/quote';

/** A member's three certificates: the one etcd serves to clients, the one it serves to peers, the client one (etcdctl, apiservers). */
export type CertKind = 'server' | 'peer' | 'client';
export const CERT_KINDS: readonly CertKind[] = ['server', 'peer', 'client'];

/** What a runbook shows of a certificate: when it expires (ISO-8601), its SANs, its SHA-256 fingerprint. */
export interface CertInfo { notAfter: string; subjectAltName: string; fingerprint: string }

/** Reads a PEM certificate (public data only). Throws on anything that is not one. */
export function certInfo(pem: string): CertInfo {
  const c = new X509Certificate(pem);
  return { notAfter: new Date(c.validTo).toISOString(), subjectAltName: c.subjectAltName ?? '', fingerprint: c.fingerprint256 };
}

function files(ops: ClusterOps, kind: CertKind): { cert: string; key: string } {
  const t = ops.inv.tls;
  return kind === 'server' ? { cert: t.serverCertFile, key: t.serverKeyFile } : kind === 'peer' ? { cert: t.peerCertFile, key: t.peerKeyFile } : { cert: t.clientCertFile, key: t.clientKeyFile };
}

/**
 * The certificate etcd serves at `url` (its client or peer URL), read on `node` with `openssl
 * s_client` authenticating with the inventory's client certificate (a peer port asks for one).
 * A new TLS handshake each time: etcd reads its certificate files on every handshake (etcd
 * client/pkg/transport/listener.go, GetCertificate), so this is what a client gets now.
 */
export async function servedCertificate(ops: ClusterOps, node: string, url: string): Promise<CertInfo> {
  const u = new URL(url);
  const t = ops.inv.tls;
  const r = await ops.run(node, shScript('openssl s_client -connect "$1" -servername "$2" -cert "$3" -key "$4" -CAfile "$5" </dev/null 2>/dev/null | openssl x509',
    `${u.hostname}:${u.port}`, u.hostname, t.clientCertFile, t.clientKeyFile, t.caFile), { timeoutMs: 20_000 });
  if (r.exitCode !== 0 || !r.stdout.includes('BEGIN CERTIFICATE')) throw new Error(`${node}: no certificate read from ${url}`);
  return certInfo(r.stdout);
}

/** The CA on the worker host: its key must be root's alone (config/rootOwned.ts), never readable by every user. */
function caFiles(ops: ClusterOps): { certFile: string; keyFile: string } {
  const ca = ops.inv.certificateAuthority;
  if (!ca) throw new PreconditionError('the inventory names no certificateAuthority (the CA certificate and key on the worker host) to sign renewed certificates with');
  readRootOwned(ca.keyFile, 'CA key', { secret: true });
  return ca;
}

/**
 * Signs a certificate request with the inventory's CA, on the worker host (the CA key never leaves
 * it), for `days` days, copying the request's extensions (SANs, key and extended key usage) and
 * with a random serial; the request is read from stdin (a child's stdin is a socket: `-in /dev/stdin`
 * cannot open it). Source: OpenSSL `x509 -req -copy_extensions copyall`.
 */
async function signOnWorker(ops: ClusterOps, csr: string, days: number): Promise<string> {
  const ca = caFiles(ops);
  const child = promisify(execFile)('openssl', ['x509', '-req', '-CA', ca.certFile, '-CAkey', ca.keyFile, '-days', String(days), '-sha256',
    '-copy_extensions', 'copyall', '-set_serial', `0x${randomBytes(16).toString('hex')}`], { encoding: 'utf8' });
  child.child.stdin?.end(csr);
  return (await child).stdout;
}

/**
 * One certificate renewed: its kind (CertKind; kubeadm also renews its liveness probe's
 * `healthcheck-client`), expiry before and after (ISO-8601); `already` when an earlier attempt of
 * this run did it.
 */
export interface Renewed { kind: CertKind | 'healthcheck-client'; before: string; after: string; already: boolean }

/**
 * Renews one of the node's certificates with the same key, subject and SANs: a request made on the
 * node from the current certificate and its key (`openssl x509 -x509toreq`, the key never leaves
 * the node), signed on the worker (signOnWorker), written beside the old one, checked there (it
 * chains to the inventory's CA file and matches the key), the old one kept as
 * `<cert>.before-<tag>`, then renamed over it (one rename: etcd's next handshake reads either the
 * old file or the new one, both valid for the same key). Idempotent: a certificate that differs
 * from the kept one of this run was renewed already. Source: kubeadm docs "Certificate Management
 * with kubeadm" (renewal keeps the key and SANs); etcd docs "Transport security model".
 */
export async function renewCertificate(ops: ClusterOps, node: string, kind: CertKind, days: number, tag: string): Promise<Renewed> {
  const { cert, key } = files(ops, kind);
  const saved = `${cert}.before-${tag}`;
  const cur = await ops.runOk(node, shScript('cat -- "$1"; echo @@saved@@; [ ! -e "$2" ] || cat -- "$2"', cert, saved));
  const [currentPem, savedPem] = cur.stdout.split('@@saved@@');
  const current = certInfo(currentPem);
  if (savedPem.includes('BEGIN CERTIFICATE') && certInfo(savedPem).fingerprint !== current.fingerprint) {
    return { kind, before: certInfo(savedPem).notAfter, after: current.notAfter, already: true };
  }
  const csr = await ops.runOk(node, ['openssl', 'x509', '-x509toreq', '-in', cert, '-signkey', key, '-copy_extensions', 'copyall']);
  const pem = await signOnWorker(ops, csr.stdout, days);
  const r = await ops.run(node, shScript(`
    c=$1; k=$2; ca=$3; saved=$4; new="$c.etcd-runbooks-new"
    cat > "$new" || { rm -f -- "$new"; exit 1; }
    openssl verify -CAfile "$ca" "$new" >/dev/null 2>&1 || { rm -f -- "$new"; echo "the renewed certificate does not chain to $ca" >&2; exit 3; }
    [ "$(openssl x509 -in "$new" -noout -pubkey)" = "$(openssl pkey -in "$k" -pubout)" ] || { rm -f -- "$new"; echo "the renewed certificate does not match $k" >&2; exit 3; }
    chmod --reference="$c" "$new" && chown --reference="$c" "$new" || exit
    [ -e "$saved" ] || cp -p -- "$c" "$saved" || exit
    mv -f -- "$new" "$c"`, cert, key, ops.inv.tls.caFile, saved), { stdin: pem });
  // Exit 3: the renewed certificate failed its own check; retrying signs the same again.
  if (r.exitCode === 3) throw new PreconditionError(`${node}: ${kind} certificate ${cert}: ${lastLines(r.stderr, 1)}; the old one is still in place`);
  if (r.exitCode !== 0) throw new CommandFailedError(r.record, r.stderr);
  return { kind, before: current.notAfter, after: certInfo(pem).notAfter, already: false };
}

/** Puts back the certificate kept by renewCertificate(…, tag), if any (one rename). Idempotent. */
export async function restoreCertificate(ops: ClusterOps, node: string, kind: CertKind, tag: string): Promise<{ restored: boolean }> {
  const { cert } = files(ops, kind);
  const r = await ops.runOk(node, shScript('[ -e "$2" ] || { echo same; exit 0; }; mv -f -- "$2" "$1" && echo restored', cert, `${cert}.before-${tag}`));
  return { restored: r.stdout.trim() === 'restored' };
}
