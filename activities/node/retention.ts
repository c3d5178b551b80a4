import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';

/**
 * Keeps only the newest `keep` backups of `cluster` in `dir` on `host` (files
 * `<cluster>-<member>-rev<revision>-<stamp>.db`, by modification time, with their `.meta.json`);
 * returns the paths removed.
 * Source: reference 000 §4 (retention of the backups on the leader's node), 002 (off-node copies).
 */
export async function pruneBackups(ops: ClusterOps, host: string, dir: string, cluster: string, keep: number): Promise<string[]> {
  const r = await ops.runOk(host, shScript(
    'ls -1t "$1"/"$2"-*-rev*-*.db 2>/dev/null | tail -n +$(($3 + 1)) | while read -r f; do rm -f -- "$f" "$f.meta.json" && echo "$f"; done',
    dir, cluster, String(Math.max(1, keep)),
  ));
  return r.stdout.split('\n').filter(Boolean);
}
