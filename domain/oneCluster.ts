import type { MemberId } from './memberId';
import type { Member } from './members';

/** What one client URL answered to `member list`: the cluster it serves, the member that answered, the members it lists. */
export interface EndpointMembers { endpoint: string; clusterId: MemberId; memberId: MemberId; members: Member[] }

/**
 * A client URL of the inventory that serves another cluster than the one most of its endpoints
 * serve: e.g. a node restarted with --force-new-cluster (same cluster ID, a member list of its
 * own) or restored from a snapshot alone (another cluster ID). `members` are the names (or IDs)
 * its own member list holds; `reason` says how it differs, for status and refusals.
 */
export interface ForeignEndpoint { endpoint: string; node?: string; clusterId: MemberId; memberId: MemberId; members: string[]; reason: string }

/** The endpoints of the inventory's cluster (`main`, best first) and those serving another one. */
export interface ClusterSplit { main: EndpointMembers[]; foreign: ForeignEndpoint[] }

/** Whether the `endpoint status` answers describe one cluster: one cluster ID and one leader (not none) named by all. */
export function statusesAgree(statuses: readonly { clusterId: MemberId; leader: MemberId }[]): boolean {
  return new Set(statuses.map((s) => s.clusterId)).size <= 1 && new Set(statuses.map((s) => s.leader)).size <= 1 && statuses.every((s) => s.leader !== '0');
}

const names = (ms: readonly Member[]) => ms.map((m) => m.name || m.id).sort();

/**
 * Groups the answers of each endpoint into clusters: two endpoints serve one cluster when they
 * report the same cluster ID and each lists the other's member (a member that applied a
 * membership change a moment later still lists both). The inventory's cluster is the group with
 * the most endpoints; on a tie the one holding the endpoint ranked first (`rank`: the inventory's
 * node order, lower first). Every other answer is foreign. Pure. Source: reference 000 §3 (every
 * member reports the same cluster ID and member list); etcd docs "Disaster recovery"
 * (--force-new-cluster keeps the cluster ID, a restore makes a new one).
 */
export function splitByCluster(answers: readonly EndpointMembers[], rank: (endpoint: string) => number, nodeOf: (endpoint: string) => string | undefined): ClusterSplit {
  const group = answers.map((_, i) => i);
  const find = (i: number): number => (group[i] === i ? i : (group[i] = find(group[i])));
  const lists = (a: EndpointMembers, b: EndpointMembers) => a.members.some((m) => m.id === b.memberId);
  answers.forEach((a, i) => answers.forEach((b, j) => {
    if (j > i && a.clusterId === b.clusterId && lists(a, b) && lists(b, a)) group[find(j)] = find(i);
  }));
  const groups = new Map<number, EndpointMembers[]>();
  answers.forEach((a, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), a]));
  const best = (g: EndpointMembers[]) => Math.min(...g.map((a) => rank(a.endpoint)));
  const ordered = [...groups.values()].map((g) => [...g].sort((a, b) => rank(a.endpoint) - rank(b.endpoint)))
    .sort((a, b) => b.length - a.length || best(a) - best(b));
  const [main = [], ...others] = ordered;
  const ref = main[0];
  const foreign = others.flat().map((a): ForeignEndpoint => {
    const node = nodeOf(a.endpoint);
    const reason = !ref ? 'serves no cluster of the inventory'
      : a.clusterId !== ref.clusterId ? `serves cluster ${a.clusterId} (members ${names(a.members).join(', ')}), not ${ref.clusterId} (members ${names(ref.members).join(', ')})`
        : `serves a cluster of its own with the same ID ${a.clusterId} (members ${names(a.members).join(', ')}), apart from the members ${names(ref.members).join(', ')}: restarted with --force-new-cluster?`;
    return { endpoint: a.endpoint, ...(node ? { node } : {}), clusterId: a.clusterId, memberId: a.memberId, members: names(a.members), reason };
  });
  return { main, foreign };
}

/**
 * One pre-flight problem per foreign endpoint, naming what to do: fence it and add it back
 * (remove-member, cleanup, add-member) or restore. `target` is the node a runbook works on when
 * that runbook is the fix (remove-member or cleanup of that very node): no problem for it.
 */
export function foreignProblems(foreign: readonly ForeignEndpoint[] | undefined, target?: string): string[] {
  return (foreign ?? []).filter((f) => !target || f.node !== target).map((f) =>
    `${f.node ?? f.endpoint}: ${f.reason}; fix it first: remove-member --node ${f.node ?? '<node>'}, cleanup and add-member it again, or restore the cluster`);
}
