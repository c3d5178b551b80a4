import { findMember, initialClusterFor, voterClientURLs, type Member } from '../../domain/members';
import type { MemberId } from '../../domain/memberId';
import type { ClusterOps } from '../cluster';
import { CommandFailedError, PreconditionError } from '../errors';
import { memberList, clusterState, memberStatuses, servesDespiteAlarm, type ClusterState, type MemberState } from './reads';
import { parseMemberAdd } from './parse';

/** Result of adding a learner: its ID and ETCD_INITIAL_CLUSTER for its configuration. */
export interface LearnerAdded { memberId: MemberId; initialCluster: string; alreadyPresent: boolean }

/**
 * Adds the node's member as a learner. Looks it up by name and peer URL first:
 * already a started learner or voter -> done; added earlier but never started -> removed and
 * re-added (a stale entry from an interrupted attempt); name or URL taken by another member -> refuses.
 * etcd refuses while the cluster is unhealthy (strict reconfig check) or a learner exists; the
 * first is transient (retry), the second a precondition. Source: reference 000 §5; etcd docs
 * "Runtime reconfiguration" and "Learner".
 */
export async function addLearner(ops: ClusterOps, node: string): Promise<LearnerAdded> {
  const spec = ops.node(node).etcd;
  const view = await memberList(ops);
  const standing = findMember(view.members, { name: spec.memberName, peerURL: spec.peerURL });
  if (standing.kind === 'conflict') throw new PreconditionError(`${node}: ${standing.reason}`);
  if (standing.kind === 'voter' || standing.kind === 'learner') {
    return { memberId: standing.member.id, initialCluster: initialClusterFor(view.members, { name: spec.memberName, peerURL: spec.peerURL }), alreadyPresent: true };
  }
  if (standing.kind === 'unstarted') {
    await ops.runOk(view.control, ops.etcdctlArgv(voterClientURLs(view.members, view.foreign), ['member', 'remove', standing.member.id]));
  }
  const others = view.members.filter((m) => !m.peerURLs.includes(spec.peerURL));
  const learners = others.filter((m) => m.isLearner);
  if (learners.length) throw new PreconditionError(`learner ${learners[0].name || learners[0].id} is already in the cluster; etcd allows one learner at a time`);
  const argv = ops.etcdctlArgv(voterClientURLs(view.members, view.foreign), ['-w', 'json', 'member', 'add', spec.memberName, `--peer-urls=${spec.peerURL}`, '--learner']);
  for (let attempt = 1; ; attempt++) {
    const r = await ops.run(view.control, argv);
    if (r.exitCode === 0) {
      const added = parseMemberAdd(r.stdout);
      const after: Member[] = added.members;
      return { memberId: added.memberId, initialCluster: initialClusterFor(after, { name: spec.memberName, peerURL: spec.peerURL }), alreadyPresent: false };
    }
    // For about a second after a member remove, etcd 3.4 refuses adds with "member not found"; etcd
    // 3.6 refuses with "unhealthy cluster" until the member serving the add has been connected to a
    // quorum for 5 s (HealthInterval; e.g. right after a promote). Both seen on the lab; a refused add
    // leaves nothing behind. Look again, then retry (20 x 0.5 s).
    if (!/member not found|unhealthy cluster/.test(r.stderr) || attempt >= 20) throw new CommandFailedError(r.record, r.stderr);
    const again = await memberList(ops);
    const now = findMember(again.members, { name: spec.memberName, peerURL: spec.peerURL });
    if (now.kind !== 'absent') return { memberId: now.member.id, initialCluster: initialClusterFor(again.members, { name: spec.memberName, peerURL: spec.peerURL }), alreadyPresent: true };
    ops.heartbeat();
    await new Promise((res) => setTimeout(res, 500));
  }
}

/**
 * Promotes the node's learner to a voting member. Already a voter -> done. etcd refuses while the
 * learner lags ("not in sync with leader"): transient, the caller retries with backoff.
 */
export async function promoteLearner(ops: ClusterOps, node: string): Promise<{ memberId: MemberId; alreadyVoter: boolean }> {
  const spec = ops.node(node).etcd;
  const view = await memberList(ops);
  const standing = findMember(view.members, { name: spec.memberName, peerURL: spec.peerURL });
  if (standing.kind === 'voter') return { memberId: standing.member.id, alreadyVoter: true };
  if (standing.kind !== 'learner') throw new PreconditionError(`${node}: cannot promote, member is ${standing.kind}${standing.kind === 'conflict' ? ` (${standing.reason})` : ''}`);
  await ops.runOk(view.control, ops.etcdctlArgv(voterClientURLs(view.members, view.foreign), ['member', 'promote', standing.member.id]));
  return { memberId: standing.member.id, alreadyVoter: false };
}

/** Removes the node's member (looked up by peer URL); absent -> done. Refuses to remove the leader. */
export async function removeMemberOfNode(ops: ClusterOps, node: string): Promise<{ removed?: MemberId }> {
  const spec = ops.node(node).etcd;
  const { view, leader } = await memberStatuses(ops);
  const m = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
  if (!m) return {};
  if (m.id === leader) throw new PreconditionError(`${node}: member ${m.name} is the leader; move leadership first`);
  await ops.runOk(view.control, ops.etcdctlArgv(voterClientURLs(view.members.filter((x) => x.id !== m.id), view.foreign), ['member', 'remove', m.id]));
  return { removed: m.id };
}

/**
 * Sends `move-leader` for `target` to the current leader's own endpoint (etcd requires that; lab
 * notes). A learner or unknown target gives "bad leader transferee". Source: etcd docs
 * "etcdctl move-leader"; reference 000 §7.
 */
async function transferLeadership(ops: ClusterOps, state: ClusterState, target: MemberState): Promise<void> {
  const leader = state.members.find((x) => x.isLeader);
  if (!leader) throw new Error(`cluster ${ops.inv.cluster} has no leader right now`);
  await ops.runOk(state.control, ops.etcdctlArgv(leader.clientURLs, ['move-leader', target.id]));
}

/**
 * If the node's member is the leader, transfers leadership to another healthy voter.
 * Otherwise does nothing. Source: reference 000 §7 (move the leader before removing it).
 */
export async function moveLeaderOff(ops: ClusterOps, node: string): Promise<{ movedTo?: MemberId }> {
  const spec = ops.node(node).etcd;
  // Who leads needs no health reads; choosing a healthy transferee does.
  const { view, leader } = await memberStatuses(ops);
  if (!view.members.some((x) => x.id === leader && x.peerURLs.includes(spec.peerURL))) return {};
  const state = await clusterState(ops);
  const m = state.members.find((x) => x.peerURLs.includes(spec.peerURL));
  if (!m?.isLeader) return {};
  // A raised alarm (NOSPACE) is the cluster's, not one member's: a member that serves may lead.
  const target = state.members.find((x) => x !== m && !x.isLearner && x.healthy) ?? state.members.find((x) => x !== m && !x.isLearner && servesDespiteAlarm(x));
  if (!target) throw new PreconditionError(`${node}: member ${m.name} is the leader and no other healthy voter can take over`);
  await transferLeadership(ops, state, target);
  return { movedTo: target.id };
}

/** Makes the node's member the leader. Already leader -> done. The target must be a healthy voter. */
export async function moveLeaderTo(ops: ClusterOps, node: string): Promise<{ leader: MemberId; moved: boolean }> {
  const spec = ops.node(node).etcd;
  const state = await clusterState(ops);
  const target = state.members.find((x) => x.peerURLs.includes(spec.peerURL));
  if (!target) throw new PreconditionError(`${node}: not a member of cluster ${ops.inv.cluster}`);
  if (target.isLeader) return { leader: target.id, moved: false };
  if (target.isLearner || !target.healthy) throw new PreconditionError(`${node}: member ${target.name || target.id} is ${target.isLearner ? 'a learner' : 'not healthy'}; only a healthy voting member can lead`);
  await transferLeadership(ops, state, target);
  return { leader: target.id, moved: true };
}
