import { accessSync, constants, existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { z } from 'zod';
import { knownHostKeysInFile } from '../../activities/ssh/knownHosts';
import { describeZodError, SafePath } from '../../domain/inputs';
import { discoverCluster, parseSshAddress } from '../../onboard/discover';
import { inventoryYaml } from '../../onboard/inventoryYaml';

/** `inventory discover`'s options, validated before any connection (each error names its option). */
export const DiscoverOptionsSchema = z.strictObject({
  from: z.string(),
  key: z.string().refine((p) => existsSync(p), 'no such file'),
  knownHosts: z.string().refine((p) => existsSync(p), 'no such file').optional(),
  cluster: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'must be lowercase letters, digits, "-" or "." (DNS label style)'),
  output: z.string().optional(),
  backupDir: SafePath.default('/var/backups/etcd-runbooks'),
  keyOnWorker: SafePath.optional(),
  unit: z.string().regex(/^[A-Za-z0-9@._-]+\.service$/, 'must be a systemd service name (NAME.service)').optional(),
  kubeadmConfig: SafePath.optional(),
  clientCert: SafePath.optional(),
  clientKey: SafePath.optional(),
  force: z.boolean().optional(),
}).refine((o) => Boolean(o.clientCert) === Boolean(o.clientKey), { path: ['clientKey'], message: '--client-cert and --client-key go together' });

/**
 * How a host key is vouched for: listed in `--known-hosts` (and not @revoked), or confirmed by the
 * operator at the terminal after comparing it with the node's own `ssh-keygen -l` on its console.
 */
function hostKeyTrust(knownHosts: string | undefined, err: (line: string) => void): (host: string, port: number, fingerprint: string) => Promise<void> {
  return async (host, port, fingerprint) => {
    if (knownHosts) {
      const k = knownHostKeysInFile(knownHosts, host, port);
      if (k.revoked.includes(fingerprint)) throw new Error(`${host}:${port} presents ${fingerprint}, which ${knownHosts} marks @revoked`);
      if (k.fingerprints.includes(fingerprint)) return;
      throw new Error(`${host}:${port} presents ${fingerprint}, which ${knownHosts} does not list for it${k.fingerprints.length ? ` (it lists ${k.fingerprints.join(', ')})` : ''}: refusing`);
    }
    if (!process.stdin.isTTY) throw new Error(`${host}:${port} presents host key ${fingerprint}; with no terminal to confirm it, give --known-hosts FILE`);
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      err(`${host}:${port} presents host key ${fingerprint}.`);
      err('Compare it with `ssh-keygen -l -E sha256 -f /etc/ssh/ssh_host_ed25519_key.pub` run on the node\'s console.');
      const answer = await rl.question('Pin this key in the inventory? [y/N] ');
      if (!/^y(es)?$/i.test(answer.trim())) throw new Error(`host key of ${host} not confirmed`);
    } finally {
      rl.close();
    }
  };
}

/**
 * `etcd-runbooks inventory discover --from USER@NODE --key FILE --cluster NAME`: reads the running
 * cluster (onboard/discover.ts), pins each node's host key once confirmed, and writes a commented
 * inventory that validates (to --output, or stdout). Read-only on the nodes. Exit 0, or 1 with the reason.
 */
export async function discoverCommand(raw: Record<string, unknown>, out = (s: string) => process.stdout.write(s), err = (s: string) => console.error(s)): Promise<number> {
  const parsed = DiscoverOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`inventory discover: ${describeZodError(parsed.error)}`);
  const o = parsed.data;
  const from = parseSshAddress(o.from);
  accessSync(o.key, constants.R_OK);
  if (o.output && existsSync(o.output) && !o.force) throw new Error(`inventory discover: ${o.output} exists (--force to replace it)`);
  const keyFile = isAbsolute(o.key) ? o.key : resolve(o.key);
  const discovery = await discoverCluster({
    from, keyFile, ...(o.keyOnWorker ? { keyPathForWorker: o.keyOnWorker } : {}), cluster: o.cluster, backupDir: o.backupDir,
    ...(o.unit ? { unit: o.unit } : {}), ...(o.kubeadmConfig ? { kubeadmConfig: o.kubeadmConfig } : {}),
    ...(o.clientCert && o.clientKey ? { client: { certFile: o.clientCert, keyFile: o.clientKey } } : {}),
    trustHostKey: hostKeyTrust(o.knownHosts, err), log: (l) => err(`discover: ${l}`),
  });
  const { text, inventory } = inventoryYaml(discovery);
  if (o.output) {
    writeFileSync(o.output, text, { mode: 0o640, flag: o.force ? 'w' : 'wx' });
    err(`discover: wrote ${o.output}: cluster ${inventory.cluster}, ${inventory.nodes.length} nodes, runtime ${inventory.runtime}${inventory.kubernetes ? `, control planes ${inventory.kubernetes.controlPlanes.length}` : ''}`);
    err(`next: etcd-runbooks doctor -i ${o.output} (after installing it where the worker reads inventories)`);
  } else {
    out(text);
  }
  for (const s of discovery.skipped) err(`discover: left out ${s}`);
  return 0;
}
