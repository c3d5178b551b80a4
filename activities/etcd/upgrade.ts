import type { UpgradeMemberView } from '../../domain/upgrade';
import type { ClusterOps } from '../cluster';
import { quorumSize } from '../../domain/quorum';
import { PreconditionError, WaitTimeoutError, rethrowCancellation } from '../errors';
import { runtimeOf } from '../runtime';
import { moveLeaderOff } from './membership';
import { clusterState, inInventoryOrder, memberStatuses } from './reads';
import { startMember } from './startMember';
import type { ForeignEndpoint } from '../../domain/oneCluster';

/**
 * What an upgrade's pre-flight read: each voting member's version and leadership, what keeps a
 * node from the release, and whether kubeadm makes the etcd of nodes it joins from the
 * kubeadm-config ConfigMap (`kubeadmImageTag`: stacked etcd backing Kubernetes).
 */
export interface UpgradeReport { members: UpgradeMemberView[]; releaseProblems: string[]; unhealthy: string[]; kubeadmImageTag?: boolean; foreign?: ForeignEndpoint[] }

/**
 * Reads each voting member's server version from its own endpoint, which one leads, which are not
 * healthy, and asks the runtime whether each inventory node holding a member can run `version`
 * (MemberRuntime.releaseProblem). Read-only. Source: etcd upgrade guides (check health and every
 * member's version first).
 */
export async function upgradeReport(ops: ClusterOps, version: string): Promise<UpgradeReport> {
  const state = await clusterState(ops);
  const rt = runtimeOf(ops);
  const nodeOf = (peerURLs: string[]) => ops.inv.nodes.find((n) => peerURLs.includes(n.etcd.peerURL));
  // The plan goes through followers in inventory order.
  const voters = inInventoryOrder(ops, state.members.filter((m) => !m.isLearner));
  const members = voters.map((m) => ({ node: nodeOf(m.peerURLs)?.name ?? (m.name || m.id), version: m.status?.version ?? '', isLeader: m.isLeader }));
  const unhealthy = voters.filter((m) => !m.healthy).map((m) => `${nodeOf(m.peerURLs)?.name ?? (m.name || m.id)}: ${m.error ?? 'not healthy'}`);
  const releaseProblems = (await Promise.all(voters.map(async (m) => {
    const node = nodeOf(m.peerURLs);
    if (!node) return `member ${m.name || m.id} is on no inventory node`;
    try {
      return await rt.releaseProblem(node.name, version);
    } catch (e) {
      rethrowCancellation(e);
      return `${node.name}: cannot check the release: ${(e as Error).message.slice(0, 160)}`;
    }
  }))).filter((p): p is string => !!p);
  return { members, releaseProblems, unhealthy, ...(state.foreign ? { foreign: state.foreign } : {}), ...(rt.kind === 'kubeadm' && ops.inv.backsKubernetes ? { kubeadmImageTag: true } : {}) };
}

/** One member's upgrade: versions before and after, seconds from stop to caught up, where leadership went. */
export interface UpgradeResult { node: string; from: string; to: string; already?: true; seconds?: number; movedLeaderTo?: string }

/** How long a restarted member may take to serve and catch up after it started (ms). */
const CATCH_UP_MS = 120_000;

/**
 * Upgrades the node's member to etcd `version`, one member: checks first (idempotent): its own
 * endpoint already reports `version` -> done; every other voter must be healthy (a second member
 * down during the restart could be the quorum: PreconditionError). A leader hands leadership to
 * another healthy voter first. Then stop, point the runtime at the release, start (startMember),
 * and wait until its endpoint reports `version` and has applied what the leader had committed.
 * Source: etcd docs "Upgrade etcd from 3.5 to 3.6" (stop one member, replace the binary, start,
 * check health, then the next); reference 000 §7 (move the leader first).
 */
export async function upgradeMember(ops: ClusterOps, node: string, version: string): Promise<UpgradeResult> {
  const spec = ops.node(node).etcd;
  const rt = runtimeOf(ops);
  const state = await clusterState(ops);
  const m = state.members.find((x) => x.peerURLs.includes(spec.peerURL));
  if (!m) throw new PreconditionError(`${node}: not a member of cluster ${ops.inv.cluster}`);
  const from = m.status?.version ?? '';
  if (from === version) return { node, from, to: version, already: true };
  const down = state.members.filter((x) => x !== m && !x.isLearner && !x.healthy);
  if (down.length) throw new PreconditionError(`${down.map((x) => x.name || x.id).join(', ')}: not healthy; not restarting ${node}'s member while another voter is down`);
  const started = Date.now();
  let movedLeaderTo: string | undefined;
  if (m.isLeader && state.members.length > 1) movedLeaderTo = (await moveLeaderOff(ops, node)).movedTo;
  await rt.stop(node);
  await rt.useRelease(node, version);
  await startMember(ops, node);
  await caughtUpAt(ops, node, version);
  return { node, from, to: version, seconds: (Date.now() - started) / 1000, ...(movedLeaderTo ? { movedLeaderTo } : {}) };
}

/**
 * Puts the node's member back on what it ran before `upgradeMember(node, version)`: when its
 * endpoint still reports `version` or the runtime's definition changed back, stop, undo the
 * release, start, wait until it serves and has caught up. Already back -> nothing. Valid while
 * the cluster version has not moved to the new minor (etcd keeps the lowest member's; a patch
 * upgrade never moves it). Source: etcd docs "Upgrade etcd from 3.5 to 3.6" (a mixed cluster
 * runs at the old cluster version until every member is upgraded). PreconditionError, before
 * anything changes, when the cluster has its quorum only with this member (the other voters that
 * answer `endpoint status` are fewer): a restart would stop it, so the member is left on `version`.
 * A single member, or one whose restart cannot cost a quorum the cluster does not have, goes on.
 */
export async function rollbackMember(ops: ClusterOps, node: string, version: string): Promise<{ node: string; restarted: boolean }> {
  const spec = ops.node(node).etcd;
  const rt = runtimeOf(ops);
  const { view, statuses } = await memberStatuses(ops);
  const id = view.members.find((x) => x.peerURLs.includes(spec.peerURL))?.id;
  const own = statuses.find((s) => s.memberId === id);
  const running = await rt.state(node);
  // Undoing the release may restart the member (a static pod manifest does): only while the other
  // voters keep the quorum without it. Otherwise the member stays on `version` (a mixed cluster
  // serves at the old cluster version) and the caller records it as left over.
  const voters = view.members.filter((x) => !x.isLearner);
  const servingOthers = voters.filter((x) => x.id !== id && statuses.some((s) => s.memberId === x.id));
  const q = quorumSize(voters.length);
  if (voters.length > 1 && servingOthers.length < q && servingOthers.length + (own ? 1 : 0) >= q) {
    const silent = voters.filter((x) => x.id !== id && !servingOthers.includes(x)).map((x) => x.name || x.id);
    throw new PreconditionError(`not restarting ${node}'s member: the quorum needs ${q} voters and only ${servingOthers.length} other(s) of ${voters.length} serve (${silent.join(', ')}: no status answer); it stays on etcd ${own?.version ?? '(not answering)'}`);
  }
  const undone = await rt.undoRelease(node, version);
  if (!undone.changed && own && own.version !== version && running === 'running') return { node, restarted: false };
  await rt.stop(node);
  await startMember(ops, node);
  await caughtUpAt(ops, node, undefined);
  return { node, restarted: true };
}

/** Waits until the node's own endpoint reports `version` (any, when undefined) and has applied the leader's committed index. */
async function caughtUpAt(ops: ClusterOps, node: string, version: string | undefined): Promise<void> {
  const peer = ops.node(node).etcd.peerURL;
  let target = 0;
  let last = '';
  await ops.waitFor(`${node}: member serving${version ? ` etcd ${version}` : ''} and caught up`, CATCH_UP_MS, 250, async () => {
    const { view, statuses, leader } = await memberStatuses(ops);
    const id = view.members.find((x) => x.peerURLs.includes(peer))?.id;
    const own = statuses.find((s) => s.memberId === id);
    const lead = statuses.find((s) => s.memberId === leader);
    if (!target && lead) target = lead.raftIndex;
    last = own ? `etcd ${own.version}, applied ${own.raftAppliedIndex} of ${target}` : 'no status answer';
    if (version && own && own.version !== version) throw new WaitTimeoutError(`${node}: its member runs etcd ${own.version} after the restart, not ${version}`);
    return own && target && own.raftAppliedIndex >= target ? true : undefined;
  }, () => last);
}
