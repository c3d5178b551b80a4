import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { backupMembers, LIST_BACKUPS_SH } from './backupFiles';

/**
 * Keeps only the newest `keep` backups of `cluster` in `dir` on `host` (files
 * `<cluster>-<member>-rev<revision>-<stamp>.db` of the inventory's members (backupFiles.ts), by
 * modification time, with their `.meta.json`);
 * returns the paths removed.
 * Source: reference 000 §4 (retention of the backups on the leader's node), 002 (off-node copies).
 */
export async function pruneBackups(ops: ClusterOps, host: string, dir: string, cluster: string, keep: number): Promise<string[]> {
  const r = await ops.runOk(host, shScript(
    `keep=$1; shift; (${LIST_BACKUPS_SH}) | tail -n +$((keep + 1)) | while read -r f; do rm -f -- "$f" "$f.meta.json" && echo "$f"; done`,
    String(Math.max(1, keep)), dir, cluster, ...backupMembers(ops.inv),
  ));
  return r.stdout.split('\n').filter(Boolean);
}
