/**
 * The revision bump of a restore. A restored cluster starts at the snapshot's revision, below
 * revisions that clients (kube-apiserver's watch cache, informers) have already seen; they would
 * see time go backwards and keep stale objects. `snapshot restore --bump-revision N
 * --mark-compacted` starts the restored cluster N revisions later and marks everything up to there
 * compacted, so every watcher is cancelled and relists. Source: etcd issue 16028 and PR 16029
 * (etcdutl 3.6, backported to 3.5); etcd docs "Disaster recovery".
 */

/** The smallest automatic bump: etcd's documented example (1,000,000,000; 11 days of 1,000 writes/s). */
export const MIN_AUTO_BUMP = 1_000_000_000;

/** What the restore does about the revision, and why. */
export interface RevisionBump {
  /** Revisions added on top of the snapshot's (0: no bump, no --mark-compacted). */
  bump: number;
  why: string;
}

/**
 * Chooses the bump. An explicit `requested` amount wins (0 turns it off). Otherwise a cluster that
 * backs Kubernetes gets max(MIN_AUTO_BUMP, 2 × the largest raft index or revision any member
 * reported at pre-flight): every revision is one raft entry at most, so the live cluster cannot
 * have moved past the snapshot by more than its raft index (and its revision bounds it too);
 * doubling covers writes between pre-flight and the fence, as OpenShift's restore bumps by a
 * multiple of the largest raft index it saw. A cluster that does not back Kubernetes is not bumped
 * by default (its clients may compare revisions across the restore).
 * Throws when a bump is wanted but `canBump` is false (the node's etcdctl 3.4 or old 3.5 lacks the
 * flags), naming the way out.
 */
export function chooseRevisionBump(o: { node: string; requested?: number; backsKubernetes: boolean; largestSeen: number; canBump: boolean; tool: string }): RevisionBump {
  let r: RevisionBump;
  if (o.requested !== undefined) r = { bump: o.requested, why: o.requested ? 'requested' : 'bump turned off by the request' };
  else if (o.backsKubernetes) r = { bump: Math.max(MIN_AUTO_BUMP, 2 * o.largestSeen), why: `the cluster backs Kubernetes (largest raft index or revision seen: ${o.largestSeen})` };
  else r = { bump: 0, why: 'the inventory does not say the cluster backs Kubernetes' };
  if (r.bump > 0 && !o.canBump) {
    throw new Error(`${o.node}: ${o.tool} cannot bump the revision (its snapshot restore has no --bump-revision/--mark-compacted; later 3.5 releases and 3.6 have them); install a newer etcdutl there, or restore with a bump of 0`);
  }
  return r;
}
