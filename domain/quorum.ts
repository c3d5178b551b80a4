/**
 * Quorum arithmetic for a Raft cluster of voting members (learners do not vote).
 * Source: etcd FAQ "What is failure tolerance?"; reference 000 §2 (majority of members must agree).
 */

/** Votes needed for a decision among `voters` voting members: floor(n/2)+1. Throws for n < 1. */
export function quorumSize(voters: number): number {
  if (!Number.isInteger(voters) || voters < 1) throw new Error(`voters must be a positive integer, got ${voters}`);
  return Math.floor(voters / 2) + 1;
}

/** How many voting members can fail while the cluster keeps quorum: n - quorum(n). */
export function faultTolerance(voters: number): number {
  return voters - quorumSize(voters);
}

/** True when `healthy` of `voters` voting members still form a quorum. */
export function hasQuorum(voters: number, healthy: number): boolean {
  return healthy >= quorumSize(voters);
}

/**
 * Removing a voter is safe when the remaining healthy voters form a quorum of the smaller cluster.
 * `removedIsHealthy` says whether the member being removed counts among `healthyVoters`.
 */
export function canRemoveVoter(voters: number, healthyVoters: number, removedIsHealthy: boolean): boolean {
  if (voters <= 1) return false;
  const remainingHealthy = healthyVoters - (removedIsHealthy ? 1 : 0);
  return remainingHealthy >= quorumSize(voters - 1);
}

/** An even number of voters tolerates no more failures than one fewer, and a split vote is possible. */
export function isRecommendedSize(voters: number): boolean {
  return voters % 2 === 1;
}
