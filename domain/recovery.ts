/**
 * What one node showed about its member's progress. From a running member: its own endpoint
 * status (served without quorum). From a stopped one: the newest snapshot file name in its data
 * dir (`<term>-<index>.snap`, hex), a lower bound of what it had applied.
 */
export interface MemberEvidence {
  node: string;
  reachable: boolean;
  etcdActive: boolean;
  source: 'status' | 'files' | 'none';
  raftTerm?: number;
  raftIndex?: number;
  revision?: number;
  clusterId?: string;
  error?: string;
}

/** Orders evidence by Raft's own rule: higher last term first, then higher index; status beats files. */
function rank(e: MemberEvidence): [number, number, number] {
  return [e.source === 'status' ? 2 : e.source === 'files' ? 1 : 0, e.raftTerm ?? -1, e.raftIndex ?? -1];
}

/**
 * Picks the most advanced survivor to restart with --force-new-cluster: the one whose log is most
 * up to date (highest term, then highest index), preferring evidence from a running member.
 * Returns undefined when no node showed any data. Ties go to the first node listed.
 * Source: reference 001 and 002 (force-new-cluster on the member with the latest data); etcd docs
 * "Disaster recovery".
 */
export function chooseSurvivor(evidence: readonly MemberEvidence[]): MemberEvidence | undefined {
  let best: MemberEvidence | undefined;
  for (const e of evidence) {
    if (e.source === 'none') continue;
    if (!best) { best = e; continue; }
    const [a, b] = [rank(e), rank(best)];
    if (a[0] > b[0] || (a[0] === b[0] && (a[1] > b[1] || (a[1] === b[1] && a[2] > b[2])))) best = e;
  }
  return best;
}

/** One line per node for the plan, e.g. `node1: running, term 3, index 1042, revision 1001`. */
export function describeEvidence(e: MemberEvidence): string {
  if (!e.reachable) return `${e.node}: does not answer${e.error ? ` (${e.error})` : ''}`;
  if (e.source === 'none') return `${e.node}: no etcd data`;
  const parts = [e.source === 'status' ? 'running' : 'stopped (from its data files)', `term ${e.raftTerm}`, `index ${e.raftIndex}`];
  if (e.revision !== undefined) parts.push(`revision ${e.revision}`);
  return `${e.node}: ${parts.join(', ')}`;
}
