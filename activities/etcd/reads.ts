import type { MemberId } from '../../domain/memberId';
import type { ClusterVersion } from '../../domain/etcdVersion';
import type { Member } from '../../domain/members';
import type { ClusterOps } from '../cluster';
import { lastLines, rethrowCancellation } from '../errors';
import { parseEndpointStatus, parseHashKV, parseMemberList, type EndpointStatus } from './parse';
import { endpointHealthOfEach, endpointStatusOfEach } from './statusEach';

/** The member list as seen through `control`, the node etcdctl ran on. */
export interface MemberListView { control: string; clusterId: MemberId; members: Member[] }

/**
 * `etcdctl member list` run on the first inventory node that answers, against every inventory
 * client URL (etcdctl's balancer skips those that do not answer). Throws with every node's error
 * when none could list the members (no quorum is not needed for this read; a dead cluster is).
 */
export async function memberList(ops: ClusterOps): Promise<MemberListView> {
  const errors: string[] = [];
  for (const control of ops.inv.nodes.map((n) => n.name)) {
    try {
      let r = await ops.etcdctl(control, ops.allClientURLs(), ['-w', 'json', 'member', 'list']);
      if (r.exitCode !== 0 && /not supported for learner/.test(r.stderr)) {
        // etcdctl's balancer picked a learner: ask only the endpoints that say they are voters.
        const st = await ops.etcdctlProbe(control, ops.allClientURLs(), ['-w', 'json', 'endpoint', 'status']);
        const voters = parseEndpointStatus(st.stdout || '[]').filter((s) => !s.isLearner).map((s) => s.endpoint);
        if (voters.length) r = await ops.etcdctl(control, voters, ['-w', 'json', 'member', 'list']);
      }
      if (r.exitCode === 0) return { control, ...parseMemberList(r.stdout) };
      errors.push(`${control}: ${lastLines(r.stderr, 2)}`);
    } catch (e) {
      rethrowCancellation(e);
      errors.push(`${control}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no node could list the members of ${ops.inv.cluster}: ${errors.join('; ')}`);
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
  const view = await memberList(ops);
  const statuses = await endpointStatusOfEach(ops, view.control, view.members.flatMap((m) => m.clientURLs));
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
  return clusterStateOf(ops, await memberList(ops));
}

/** clusterState from a member list already read. */
export async function clusterStateOf(ops: ClusterOps, view: MemberListView): Promise<ClusterState> {
  const endpoints = view.members.flatMap((m) => m.clientURLs);
  // Learners refuse the health read, and etcdctl spends ~2.6 s retrying it: judge them by status alone.
  const voterEndpoints = view.members.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs);
  // Status per endpoint in parallel: a member that does not answer yet (joining, or down) costs
  // one probe timeout in all instead of one per endpoint in turn.
  const [statuses, health] = await Promise.all([
    endpointStatusOfEach(ops, view.control, endpoints),
    endpointHealthOfEach(ops, view.control, voterEndpoints),
  ]);
  const leader = agreedLeader(statuses);
  const members = view.members.map((m): MemberState => {
    const status = statuses.find((s) => s.memberId === m.id);
    const h = health.find((x) => m.clientURLs.includes(x.endpoint));
    const healthy = m.name !== '' && (m.isLearner ? status !== undefined : h?.health === true && status !== undefined);
    const error = m.name === '' ? 'not started' : !status ? `status: no answer from ${m.clientURLs.join(',')}` : !healthy ? h?.error ?? 'unhealthy' : undefined;
    return { ...m, healthy, isLeader: leader === m.id, ...(status ? { status } : {}), ...(error ? { error } : {}) };
  });
  return { control: view.control, clusterId: view.clusterId, ...(leader ? { leader } : {}), members };
}

/** KV hash of each endpoint at one revision (`endpoint hashkv --rev`). Equal hashes mean equal data. */
export async function hashKV(ops: ClusterOps, control: string, endpoints: string[], revision: number) {
  const r = await ops.etcdctlProbe(control, endpoints, ['-w', 'json', 'endpoint', 'hashkv', `--rev=${revision}`]);
  return { hashes: parseHashKV(r.stdout || '[]'), stderr: r.stderr, exitCode: r.exitCode };
}
