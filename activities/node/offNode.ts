import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { requireFree } from './disk';
import { pruneBackups } from './retention';
import { readBackupMeta, writeBackupMeta } from '../etcd/backupMeta';

/** What the off-node copy did: where the copy is, its SHA-256 (whole file), bytes moved, copies pruned there. */
export interface OffNodeCopy {
  /** False when the inventory names no backup host. */
  configured: boolean;
  host?: string;
  path?: string;
  sha256?: string;
  copiedBytes?: number;
  pruned?: string[];
}

const sha256Of = async (ops: ClusterOps, host: string, path: string) => (await ops.runOk(host, ['sha256sum', '--', path])).stdout.split(' ')[0];

/**
 * Copies a backup off the etcd hosts (reference 002): streams `node:path` to the inventory's backup
 * host (two SSH channels piped through the worker) into `<dir>/<name>.copying`, compares the
 * copy's SHA-256 (sha256sum of the whole file) with the source's, renames it into place, then keeps
 * only the newest `keep` copies of this cluster there. The backup's `.meta.json` goes with it. Free disk on the host is checked first.
 * Idempotent: a copy with the source's hash already there is kept. No backup host -> `configured: false`.
 */
export async function copyBackupOffNode(ops: ClusterOps, node: string, path: string, sizeBytes: number): Promise<OffNodeCopy> {
  const host = ops.inv.backupHost;
  if (!host) return { configured: false };
  const name = path.split('/').pop() ?? '';
  const target = `${host.dir}/${name}`;
  const source = await sha256Of(ops, node, path);
  const there = (await ops.run(host.name, ['test', '-f', target])).exitCode === 0 ? await sha256Of(ops, host.name, target) : undefined;
  let copiedBytes = 0;
  if (there !== source) {
    await ops.runOk(host.name, ['install', '-d', '-m', '0700', host.dir]);
    await requireFree(ops, host.name, host.dir, Math.ceil(sizeBytes * 1.05), `the off-node copy of ${path}`);
    copiedBytes = (await ops.pipe({ node, argv: ['cat', '--', path] }, { node: host.name, argv: shScript('umask 077; cat > "$1.copying"', target) }, sizeBytes)).bytes;
    const copy = await sha256Of(ops, host.name, `${target}.copying`);
    if (copy !== source) throw new Error(`${host.name}: the copy of ${node}:${path} differs from its source (sha256 ${copy.slice(0, 12)}… vs ${source.slice(0, 12)}…)`);
    await ops.runOk(host.name, ['mv', '-f', '--', `${target}.copying`, target]);
  }
  const meta = await readBackupMeta(ops, node, path);
  if (meta) await writeBackupMeta(ops, host.name, target, meta);
  const pruned = await pruneBackups(ops, host.name, host.dir, ops.inv.cluster, host.keep);
  return { configured: true, host: host.name, path: target, sha256: source, copiedBytes, pruned };
}
