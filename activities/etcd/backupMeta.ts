import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { hashKV } from './reads';

/**
 * What a backup held, read from the leader when it was taken: the snapshot's revision, the number
 * of keys at that revision and the KV hash at it (`endpoint hashkv --rev`). Kept beside the backup
 * as `<file>.meta.json` (and beside each off-node copy), so a restore drill can check a restored
 * copy against it. Source: etcd docs "Disaster recovery" (snapshot status), "endpoint hashkv".
 */
export interface BackupMeta { cluster: string; member: string; revision: number; keys: number; hashKV: string; sha256: string; sizeBytes: number; takenAt: string }

/** The sidecar file of a backup. */
export const metaPath = (backup: string) => `${backup}.meta.json`;

/** Reads the backup's sidecar on `node`; undefined when absent or unreadable. */
export async function readBackupMeta(ops: ClusterOps, node: string, backup: string): Promise<BackupMeta | undefined> {
  const r = await ops.run(node, ['cat', '--', metaPath(backup)]);
  if (r.exitCode !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as BackupMeta;
  } catch {
    return undefined;
  }
}

/** Writes the sidecar of `backup` on `node` (through stdin, replaced atomically). */
export async function writeBackupMeta(ops: ClusterOps, node: string, backup: string, meta: BackupMeta): Promise<void> {
  await ops.runOk(node, shScript('umask 077; cat > "$1.tmp" && mv -f -- "$1.tmp" "$1"', metaPath(backup)), { stdin: `${JSON.stringify(meta)}\n` });
}

/**
 * Measures what the backup holds on the member at `clientURL` (its node `node`): keys and KV hash at
 * `revision`. Throws when etcd does not answer (the backup then has no sidecar and no drill can check it).
 */
export async function measureAt(ops: ClusterOps, node: string, clientURL: string, revision: number): Promise<{ keys: number; hashKV: string }> {
  const h = await hashKV(ops, node, [clientURL], revision);
  if (h.exitCode !== 0 || !h.hashes.length) throw new Error(`${node}: endpoint hashkv --rev=${revision} failed: ${h.stderr.trim().slice(0, 300)}`);
  const c = await ops.runOk(node, ops.etcdctlArgv([clientURL], ['-w', 'json', 'get', '', '--prefix', '--limit=1', `--rev=${revision}`]));
  // `count` is every key in the range whatever the limit (etcdctl 3.4 has no --count-only). The
  // header holds uint64 IDs: read only the count, never JSON.parse the whole answer into numbers.
  const count = /"count":(\d+)/.exec(c.stdout);
  return { keys: count ? Number(count[1]) : 0, hashKV: h.hashes[0].hash };
}
