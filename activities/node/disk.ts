import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';

export { WAL_RESERVE_BYTES } from '../../domain/disk';

/**
 * Bytes free for an unprivileged writer on the filesystem that holds `path` (or its nearest existing
 * parent, for a directory not created yet), from `df -B1 --output=avail`.
 */
export async function freeBytes(ops: ClusterOps, node: string, path: string): Promise<number> {
  const r = await ops.runOk(node, shScript('p=$1; while [ ! -e "$p" ]; do p=$(dirname "$p"); done; df -B1 --output=avail -- "$p" | tail -n 1', path));
  const n = /^[0-9]+$/.test(r.stdout.trim()) ? Number(r.stdout.trim()) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`${node}: cannot read free disk space of ${path}: ${r.stdout.trim().slice(0, 80)}`);
  return n;
}

/** One disk-space requirement: `needBytes` free on the filesystem of the node's data dir or of the backup dir. */
export interface DiskNeed { node: string; dir: 'dataDir' | 'backupDir'; needBytes: number; why: string }

/** A requirement as measured: the path, free bytes and whether it is met. */
export interface DiskCheck extends DiskNeed { path: string; freeBytes: number; ok: boolean }

/** Measures every requirement (read-only). Requirements on one filesystem are not summed: give the sum as one need. */
export async function checkDisk(ops: ClusterOps, needs: DiskNeed[]): Promise<DiskCheck[]> {
  const out: DiskCheck[] = [];
  for (const n of needs) {
    const path = n.dir === 'dataDir' ? ops.node(n.node).etcd.dataDir : ops.inv.backupDir;
    const free = await freeBytes(ops, n.node, path);
    out.push({ ...n, path, freeBytes: free, ok: free >= n.needBytes });
  }
  return out;
}

/** Throws PreconditionError (never retried) unless `path` on `node` has `needBytes` free. */
export async function requireFree(ops: ClusterOps, node: string, path: string, needBytes: number, why: string): Promise<void> {
  const free = await freeBytes(ops, node, path);
  if (free < needBytes) throw new PreconditionError(`${node}: not enough free disk for ${why}: ${path} has ${mib(free)} free, needs ${mib(needBytes)}`);
}

export function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
