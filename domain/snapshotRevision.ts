/**
 * The revision a member restored from a snapshot serves, given the snapshot's revision as
 * `snapshot status` reports it (the newest revision in its key bucket).
 *
 * etcd's revisions start at 1 (mvcc: a new store is at revision 1 before any write), so a snapshot of
 * a cluster that never had a key written reports 0 while the member restored from it reports 1.
 * Reads at the backup's revision (`hashkv --rev`, `get --rev`) must use 1 there too: `--rev=0`
 * means "the newest", which on a live cluster is a moving target.
 *
 * @param snapshotRevision `snapshot status` revision (>= 0)
 * @returns the revision to compare and read at (>= 1)
 */
export function servedRevision(snapshotRevision: number): number {
  return Math.max(snapshotRevision, 1);
}
