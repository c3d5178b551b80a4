/**
 * What one node showed about its member's progress. From a running member: its own endpoint
 * status (served without quorum). From a stopped one: the newest snapshot file name in its data
 * dir (`<term>-<index>.snap`, hex), a lower bound of what it had applied.
 */
/**
 * A runtime's own words for plans and leftovers (from the runtime, activities/runtime): `fencing`
 * titles the phase that fences (e.g. "stop, disable and mask etcd"), `liftFence` is the operator's
 * command to lift a fence by hand, `forceNewClusterAt` says where --force-new-cluster is set.
 */
export interface RuntimeTexts { fencing: string; liftFence: string; forceNewClusterAt: string }

export interface MemberEvidence {
  node: string;
  reachable: boolean;
  etcdActive: boolean;
  source: 'status' | 'files' | 'none';
  raftTerm?: number;
  /** From status: the last raft index. From files: a lower bound (the newest snap file's index). */
  raftIndex?: number;
  raftAppliedIndex?: number;
  revision?: number;
  clusterId?: string;
  error?: string;
}

/** The evidence with the greatest rank (compared element by element); the first listed wins ties. */
function best(evidence: readonly MemberEvidence[], rankOf: (e: MemberEvidence) => number[]): MemberEvidence | undefined {
  let top: MemberEvidence | undefined;
  for (const e of evidence) {
    if (e.source === 'none') continue;
    if (!top) { top = e; continue; }
    const [a, b] = [rankOf(e), rankOf(top)];
    const i = a.findIndex((x, k) => x !== b[k]);
    if (i >= 0 && a[i] > b[i]) top = e;
  }
  return top;
}

/** Highest raft index, then applied index, then revision; a running member's exact figures beat a lower bound on a tie. */
function rank(e: MemberEvidence): number[] {
  return [e.raftIndex ?? -1, e.raftAppliedIndex ?? -1, e.revision ?? -1, e.source === 'status' ? 1 : 0];
}

/**
 * Picks the survivor to restart with --force-new-cluster: the member whose log reaches furthest
 * (highest raft index, then applied index, then revision). Never the current term: an isolated
 * member inflates its term by campaigning without gaining a single entry. Evidence from a stopped
 * member's files is a lower bound of its index (see `lowerBound`). Returns undefined when no node
 * showed any data. Ties go to the first node listed.
 * Source: reference 001 and 002 (force-new-cluster on the member with the latest data); etcd docs
 * "Disaster recovery"; Raft §5.4.1 (the log that is longer at the same last term is more up to date).
 */
export function chooseSurvivor(evidence: readonly MemberEvidence[]): MemberEvidence | undefined {
  return best(evidence, rank);
}

/** True when the evidence is only a lower bound (read from a stopped member's files). */
export function lowerBound(e: MemberEvidence): boolean {
  return e.source === 'files';
}

/** One line per node for the plan, e.g. `node1: running, term 3, index 1042, revision 1001`. */
export function describeEvidence(e: MemberEvidence): string {
  if (!e.reachable) return `${e.node}: does not answer${e.error ? ` (${e.error})` : ''}`;
  if (e.source === 'none') return `${e.node}: no etcd data`;
  const parts = e.source === 'status'
    ? ['running', `term ${e.raftTerm}`, `index ${e.raftIndex}`, ...(e.raftAppliedIndex !== undefined ? [`applied ${e.raftAppliedIndex}`] : [])]
    : ['stopped', `index >= ${e.raftIndex} (lower bound from its data files; its WAL may hold more)`];
  if (e.revision !== undefined) parts.push(`revision ${e.revision}`);
  return `${e.node}: ${parts.join(', ')}`;
}
