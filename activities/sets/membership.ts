import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { PreconditionError } from '../errors';
import { addLearner, moveLeaderOff, moveLeaderTo, promoteLearner, removeMemberOfNode } from '../etcd/membership';
import { clusterState, memberList, memberStatuses } from '../etcd/reads';
import { startMember } from '../etcd/startMember';
import { runtimeOf } from '../runtime';
import { clusterActivity, type ActivityDeps } from '../wrap';
import { memberStartTimeoutMs } from '../../domain/scale';
import type { Member } from '../../domain/members';
import type { EndpointStatus } from '../etcd/parse';
import { endpointStatusOfEach } from '../etcd/statusEach';
import { type NodeInput, memberOfNode, specOf } from './common';
/**
 * Between learner catch-up polls (ms). A learner that joins a small database catches up within a
 * few hundred ms of its start; etcd refuses to promote it before (the bare-script floor retries
 * the promote every 200 ms).
 */
const LEARNER_POLL_MS = 200;

/** The activities of membership changes, one member at a time: learner add, configure, start, catch up, promote, leadership, removal. */
export function membershipActivities(deps: ActivityDeps) {
  return {
    /** `member add --learner` for the node's member, unless already present. Source: reference 000 §5. */
    addLearner: clusterActivity(deps, (ops, input: NodeInput) => addLearner(ops, input.node)),

    /**
     * Writes the joining member's configuration (initial cluster, state existing): the environment
     * file (systemd), or the static pod manifest's flags, or, on a node with no etcd manifest,
     * `kubeadm join --control-plane` (kubeadm; runtime/kubeadm.ts). Source: reference 004, 001.
     */
    writeMemberConfig: clusterActivity(deps, (ops, input: NodeInput & { initialCluster: string }) =>
      runtimeOf(ops).writeConfig(input.node, { initialCluster: input.initialCluster, initialClusterState: 'existing' })),

    /**
     * Starts etcd on the node and waits until its member has started (activities/etcd/startMember.ts).
     * Source: reference 000 §5; etcd docs "Runtime reconfiguration: add a new member".
     */
    startMember: clusterActivity(deps, (ops, input: NodeInput) => startMember(ops, input.node)),

    /** Waits until the learner's applied index reaches the leader's index at the start of the wait. */
    waitLearnerCaughtUp: clusterActivity(deps, async (ops, input: NodeInput) => {
      const first = await clusterState(ops);
      const leader = first.members.find((m) => m.isLeader);
      const target = leader?.status?.raftIndex ?? 0;
      let last = '';
      const dbBytes = leader?.status?.dbSize ?? 0;
      return ops.waitFor(`${input.node}: learner caught up`, memberStartTimeoutMs(dbBytes, 10 * 60_000), 500, async () => {
        const state = await clusterState(ops);
        const m = memberOfNode(state, ops, input.node);
        if (!m) throw new PreconditionError(`${input.node}: member disappeared from the member list`);
        if (!m.isLearner) return { caughtUp: true, appliedIndex: m.status?.raftAppliedIndex ?? 0, leaderIndex: target };
        const applied = m.status?.raftAppliedIndex ?? 0;
        last = `applied ${applied} of ${target}`;
        return applied >= target ? { caughtUp: true, appliedIndex: applied, leaderIndex: target } : undefined;
      }, () => last);
    }),

    /**
     * Learner catch-up, bounded: polls every LEARNER_POLL_MS for up to `forSeconds` (at most 60)
     * and reports the learner's applied index against the leader's index at the first poll, and
     * the bytes of the leader's database received so far (the snapshot file etcd writes under
     * member/snap while it streams in) with rate and ETA in heartbeats, for the CLI. The first poll
     * reads the leader's index and database size (member list and every member's status); later
     * polls read the member list (is it still a learner, still a member?) and the learner's own
     * status. The workflow loops on it with timers while the index or the bytes move.
     * Source: etcd docs "Learner" (promote once in sync).
     */
    learnerProgress: clusterActivity(deps, async (ops, input: NodeInput & { target?: number; forSeconds: number }) => {
      const spec = specOf(ops, input.node);
      const until = Date.now() + Math.min(60, input.forSeconds) * 1000;
      let target = input.target;
      let totalBytes = 0;
      const first = { at: Date.now(), bytes: -1 };
      for (;;) {
        let member: Member | undefined;
        let own: EndpointStatus | undefined;
        if (first.bytes < 0) {
          const { view, statuses, leader } = await memberStatuses(ops);
          const lead = statuses.find((x) => x.memberId === leader);
          target ??= lead?.raftIndex ?? 0;
          totalBytes = lead?.dbSize ?? 0;
          member = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
          own = statuses.find((x) => x.memberId === member?.id);
        } else {
          const view = await memberList(ops);
          const st = await endpointStatusOfEach(ops, view.control, [spec.clientURL]);
          member = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
          own = st.find((x) => x.memberId === member?.id);
        }
        if (!member) throw new PreconditionError(`${input.node}: member disappeared from the member list`);
        const applied = own?.raftAppliedIndex ?? 0;
        const receivedBytes = await receivedDbBytes(ops, input.node);
        const out = { appliedIndex: applied, leaderIndex: target ?? 0, dbSize: own?.dbSize ?? 0, receivedBytes, totalBytes };
        if (!member.isLearner || applied >= out.leaderIndex) return { caughtUp: true, ...out };
        if (Date.now() > until) return { caughtUp: false, ...out };
        if (first.bytes < 0) Object.assign(first, { at: Date.now(), bytes: receivedBytes });
        const rate = (receivedBytes - first.bytes) / Math.max(0.001, (Date.now() - first.at) / 1000);
        ops.heartbeat({ ...out, bytes: receivedBytes, rateBytesPerSec: Math.round(rate), ...(rate > 0 && totalBytes > receivedBytes ? { etaSeconds: Math.ceil((totalBytes - receivedBytes) / rate) } : {}) });
        await new Promise((r) => setTimeout(r, LEARNER_POLL_MS));
      }
    }),

    /** Promotes the learner. "not in sync" is transient and retried by Temporal. Source: reference 000 §5. */
    promoteLearner: clusterActivity(deps, (ops, input: NodeInput) => promoteLearner(ops, input.node)),

    /** Waits until every started member is healthy, the node's member is a voter, and a leader is known. */
    waitClusterHealthy: clusterActivity(deps, async (ops, input: NodeInput) => {
      let last = '';
      return ops.waitFor(`${input.node}: cluster healthy`, 3 * 60_000, 1_000, async () => {
        const state = await clusterState(ops);
        const m = memberOfNode(state, ops, input.node);
        const sick = state.members.filter((x) => !x.healthy);
        last = sick.map((x) => `${x.name || x.id}: ${x.error}`).join('; ') || (!state.leader ? 'no leader' : m?.isLearner ? 'still a learner' : '');
        return m && !m.isLearner && sick.length === 0 && state.leader ? { voters: state.members.filter((x) => !x.isLearner).length, leader: state.leader } : undefined;
      }, () => last);
    }),

    /** Makes the node's member the leader (move-leader sent to the current leader). */
    moveLeaderTo: clusterActivity(deps, (ops, input: NodeInput) => moveLeaderTo(ops, input.node)),

    /** Moves leadership away from the node's member if it leads; no-op otherwise. */
    moveLeaderOff: clusterActivity(deps, (ops, input: NodeInput) => moveLeaderOff(ops, input.node)),

    /** Compensation: removes the node's member if present (never the leader). */
    removeMember: clusterActivity(deps, (ops, input: NodeInput) => removeMemberOfNode(ops, input.node)),

    /**
     * Compensation, and the last step of a removal: stops etcd on a node whose member is out so that
     * nothing starts it again (runtime `retire`). `service` is its state, followed by what the
     * operator still has to do on the node, if anything (kubeadm: reset the stopped control plane).
     */
    stopMember: clusterActivity(deps, async (ops, input: NodeInput) => {
      const rt = runtimeOf(ops);
      const todo = await rt.retire(input.node);
      return { service: `${await rt.state(input.node)}${todo ? `; ${todo}` : ''}` };
    }),
  };
}

/**
 * Bytes of the leader's database a joining member holds: the largest of its database file and the
 * snapshot files etcd writes under member/snap while one streams in (`tmp*` while receiving,
 * `<index>.snap.db` once received). 0 when there is none yet.
 */
async function receivedDbBytes(ops: ClusterOps, node: string): Promise<number> {
  const snap = `${ops.node(node).etcd.dataDir}/member/snap`;
  const r = await ops.run(node, shScript('for f in "$1"/db "$1"/tmp* "$1"/*.snap.db; do [ -f "$f" ] && stat -c %s -- "$f"; done; true', snap));
  return Math.max(0, ...r.stdout.split('\n').map(Number).filter(Number.isFinite));
}
