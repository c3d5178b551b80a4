import type { MemberId } from '../../domain/memberId';
import type { ClusterVersion } from '../../domain/etcdVersion';
import type { Member } from '../../domain/members';
import { splitByCluster, statusesAgree, type ForeignEndpoint } from '../../domain/oneCluster';
import type { ClusterOps } from '../cluster';
import { lastLines, rethrowCancellation } from '../errors';
import { parseHashKV, parseMemberList, type EndpointHealth, type EndpointStatus } from './parse';
import { endpointHealthOfEach, endpointStatusOfEach, memberListOfEach } from './statusEach';

/**
 * The member list as seen through `control`, the node etcdctl ran on. `foreign`: inventory client
 * URLs that answer for another cluster (domain/oneCluster.ts), left out of every read and write.
 */
export interface MemberListView { control: string; clusterId: MemberId; members: Member[]; foreign?: ForeignEndpoint[] }

/**
 * The inventory's cluster, proven on every read: `endpoint status` of each inventory client URL
 * on its own (one command, endpointStatusOfEach), run on the first inventory node that answers
 * SSH and reaches an endpoint. When every answer names one cluster ID and one leader, `member
 * list` of those endpoints (the voters among them: etcd 3.4 learners refuse it). Otherwise
 * `member list` of each endpoint on its own, grouped into clusters (splitByCluster): the largest
 * is the inventory's, the others are `foreign`. Never etcdctl balancing over every URL, which
 * could ask a member serving another cluster. Throws with every node's error when none could
 * list the members (no quorum is not needed for this read; a dead cluster is). Source: reference
 * 000 §3 (every member reports one cluster ID and member list).
 */
export async function memberList(ops: ClusterOps): Promise<MemberListView> {
  return (await readMembers(ops)).view;
}

/** What readMembers read: the view, and the `endpoint status` (and, when asked for, `endpoint health`) of the URLs it `asked`. */
export interface MembersRead { view: MemberListView; statuses: EndpointStatus[]; asked: string[]; health?: Promise<EndpointHealth[]> }

/**
 * memberList with the `endpoint status` answers it read on the way. `withHealth`: `endpoint
 * health` of the voters that answered status, asked while the member list is read.
 */
export async function readMembers(ops: ClusterOps, withHealth = false): Promise<MembersRead> {
  const errors: string[] = [];
  const asked = ops.allClientURLs();
  const rank = (url: string) => { const i = ops.inv.nodes.findIndex((n) => n.etcd.clientURL === url); return i < 0 ? Infinity : i; };
  const nodeOf = (url: string) => ops.inv.nodes.find((n) => n.etcd.clientURL === url)?.name;
  for (const control of ops.inv.nodes.map((n) => n.name)) {
    try {
      const statuses = await endpointStatusOfEach(ops, control, asked);
      if (!statuses.length) { errors.push(`${control}: no client URL answered endpoint status`); continue; }
      // etcd 3.4 learners refuse `member list`.
      const voters = statuses.filter((s) => !s.isLearner).map((s) => s.endpoint);
      const ask = voters.length ? voters : statuses.map((s) => s.endpoint);
      const health = withHealth ? { health: endpointHealthOfEach(ops, control, voters) } : {};
      // Settled by the caller; a rejection must not go unhandled while the member list is read.
      health.health?.catch(() => undefined);
      if (!statusesAgree(statuses)) {
        const split = splitByCluster(await memberListOfEach(ops, control, ask), rank, nodeOf);
        const main = split.main[0];
        if (!main) { errors.push(`${control}: no endpoint answered member list`); continue; }
        const foreign = split.foreign.length ? { foreign: split.foreign } : {};
        return { view: { control, clusterId: main.clusterId, members: main.members, ...foreign }, statuses: statuses.filter((st) => !split.foreign.some((f) => f.endpoint === st.endpoint)), asked, ...health };
      }
      const r = await ops.etcdctl(control, ask, ['-w', 'json', 'member', 'list']);
      if (r.exitCode === 0) { const l = parseMemberList(r.stdout); return { view: { control, clusterId: l.clusterId, members: l.members }, statuses, asked, ...health }; }
      errors.push(`${control}: ${lastLines(r.stderr, 2)}`);
    } catch (e) {
      rethrowCancellation(e);
      errors.push(`${control}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no node could list the members of ${ops.inv.cluster}: ${errors.join('; ')}`);
}

/**
 * `endpoint status` of each of the view's members' own client URLs: those readMembers asked
 * already, the others (members on no inventory node) asked now.
 */
async function statusesOfMembers(ops: ClusterOps, read: MembersRead): Promise<EndpointStatus[]> {
  const urls = ownURLs(read.view, read.view.members);
  const rest = urls.filter((u) => !read.asked.includes(u));
  return [...read.statuses.filter((st) => urls.includes(st.endpoint)), ...(rest.length ? await endpointStatusOfEach(ops, read.view.control, rest) : [])];
}

/** One member with what its own endpoint said. `status` is absent when the endpoint did not answer. */
export interface MemberState extends Member {
  healthy: boolean;
  isLeader: boolean;
  status?: EndpointStatus;
  error?: string;
}

/**
 * Whether a member serves although `endpoint health` calls it unhealthy only because an alarm is
 * raised (etcdctl 3.5+ reports "Active Alarm(s): NOSPACE" as unhealthy; etcd
 * etcdctl/ctlv3/command/ep_command.go): its endpoint answers and reads work.
 */
export function servesDespiteAlarm(m: MemberState): boolean {
  return m.status !== undefined && (m.healthy || /^Active Alarm/.test(m.error ?? ''));
}

/** Members in the inventory's node order (the member list is in ID order); members on no inventory node last. */
export function inInventoryOrder<T extends { peerURLs: string[] }>(ops: ClusterOps, members: readonly T[]): T[] {
  const rank = (m: T) => { const i = ops.inv.nodes.findIndex((n) => m.peerURLs.includes(n.etcd.peerURL)); return i < 0 ? Infinity : i; };
  return [...members].sort((a, b) => rank(a) - rank(b));
}

/** The whole cluster as one read: members, each member's status and health, the leader. */
export interface ClusterState {
  control: string;
  clusterId: MemberId;
  leader?: MemberId;
  members: MemberState[];
  /** Inventory client URLs serving another cluster (MemberListView.foreign): their members count as not serving. */
  foreign?: ForeignEndpoint[];
  /** The cluster version (X.Y.0), read by `inspectCluster` only (etcd's /version, or estimated). */
  clusterVersion?: ClusterVersion;
}

/** The member list with the status of each started member's client URL and the leader they agree on. */
export interface MemberStatuses { view: MemberListView; statuses: EndpointStatus[]; leader?: MemberId }

/**
 * Member list plus `endpoint status` of every started member's client URL (a member added but not
 * started has none), without the health reads of clusterState: for the reads that only need the
 * leader, raft indexes or database sizes. The leader is set when every status names the same one.
 * Read-only. Source: etcd docs "etcdctl endpoint status".
 */
export async function memberStatuses(ops: ClusterOps): Promise<MemberStatuses> {
  const read = await readMembers(ops);
  const view = read.view;
  const statuses = await statusesOfMembers(ops, read);
  const leader = agreedLeader(statuses);
  return { view, statuses, ...(leader ? { leader } : {}) };
}

/** The leader every status names (0 is none), or undefined when they name none or several. */
function agreedLeader(statuses: readonly EndpointStatus[]): MemberId | undefined {
  const leaders = new Set(statuses.map((s) => s.leader).filter((l) => l !== '0'));
  return leaders.size === 1 ? [...leaders][0] : undefined;
}

/**
 * Member list plus `endpoint status` and `endpoint health` of every started member's client URL.
 * A learner counts as healthy when its status answers (etcd 3.4 learners refuse the health read).
 * Source: reference 000 §3 (check status and health before and after every change).
 */
export async function clusterState(ops: ClusterOps): Promise<ClusterState> {
  const read = await readMembers(ops, true);
  return clusterStateOf(ops, read.view, read);
}

/**
 * clusterState from a member list already read. `known`: what readMembers read with it; only the
 * members' URLs it did not ask (members on no inventory node) are asked again.
 */
export async function clusterStateOf(ops: ClusterOps, view: MemberListView, known?: MembersRead): Promise<ClusterState> {
  const asked = known?.asked ?? [];
  const own = ownURLs(view, view.members);
  const endpoints = own.filter((u) => !asked.includes(u));
  // Learners refuse the health read, and etcdctl spends ~2.6 s retrying it: judge them by status alone.
  const voterEndpoints = ownURLs(view, view.members.filter((m) => !m.isLearner)).filter((u) => !asked.includes(u));
  // Status per endpoint in parallel: a member that does not answer yet (joining, or down) costs
  // one probe timeout in all instead of one per endpoint in turn.
  const [fresh, freshHealth, knownHealth] = await Promise.all([
    endpointStatusOfEach(ops, view.control, endpoints),
    endpointHealthOfEach(ops, view.control, voterEndpoints),
    known?.health ?? [],
  ]);
  const statuses = [...(known?.statuses ?? []).filter((st) => own.includes(st.endpoint)), ...fresh];
  const health = [...knownHealth, ...freshHealth];
  const leader = agreedLeader(statuses);
  const members = view.members.map((m): MemberState => {
    const status = statuses.find((s) => s.memberId === m.id);
    const h = health.find((x) => m.clientURLs.includes(x.endpoint));
    const healthy = m.name !== '' && (m.isLearner ? status !== undefined : h?.health === true && status !== undefined);
    const away = view.foreign?.find((f) => m.clientURLs.includes(f.endpoint));
    const error = m.name === '' ? 'not started' : away ? `${away.endpoint} ${away.reason}` : !status ? `status: no answer from ${m.clientURLs.join(',')}` : !healthy ? h?.error ?? 'unhealthy' : undefined;
    return { ...m, healthy, isLeader: leader === m.id, ...(status ? { status } : {}), ...(error ? { error } : {}) };
  });
  return { control: view.control, clusterId: view.clusterId, ...(leader ? { leader } : {}), members, ...(view.foreign ? { foreign: view.foreign } : {}) };
}

/** The client URLs of `members` that serve the view's cluster (not a foreign endpoint). */
export function ownURLs(view: { foreign?: ForeignEndpoint[] }, members: readonly Member[]): string[] {
  return members.flatMap((m) => m.clientURLs).filter((u) => !view.foreign?.some((f) => f.endpoint === u));
}

/** KV hash of each endpoint at one revision (`endpoint hashkv --rev`). Equal hashes mean equal data. */
export async function hashKV(ops: ClusterOps, control: string, endpoints: string[], revision: number) {
  const r = await ops.etcdctlProbe(control, endpoints, ['-w', 'json', 'endpoint', 'hashkv', `--rev=${revision}`]);
  return { hashes: parseHashKV(r.stdout || '[]'), stderr: r.stderr, exitCode: r.exitCode };
}
