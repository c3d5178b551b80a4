import type { Inventory } from '../../inventory/schema';

/**
 * Shell that prints the backup files of one cluster in a directory, newest first:
 * `<dir>/<cluster>-<member>-rev<revision>-<stamp>.db` for each member name given. Matching by the
 * inventory's member names, not `<cluster>-*`, keeps cluster `prod` from taking the backups of
 * `prod-eu` in a shared backup dir (retention would delete them, a drill would drill them).
 * Arguments: $1 dir, $2 cluster, then the member names. Used inside shScript.
 */
export const LIST_BACKUPS_SH = 'd=$1; c=$2; shift 2; for m in "$@"; do ls -1 -- "$d/$c-$m"-rev[0-9]*-*.db 2>/dev/null; done | xargs -r ls -1t --';

/** The member names whose backups belong to the inventory's cluster (every node's, the current members'). */
export function backupMembers(inv: Inventory): string[] {
  return [...new Set(inv.nodes.map((n) => n.etcd.memberName))];
}
