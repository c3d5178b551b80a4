import { ApplicationFailure, sleep } from '@temporalio/workflow';
import type { Phase } from './phases';
import { changes, long, probes, undo, undoCluster, type Base } from './proxies';
import type { ProgressTracker } from './steps';

/** A learner that applies no new entry for this long is stuck: the add fails (and is undone). */
const CATCH_UP_STALL_MS = 3 * 60_000;

/**
 * Waits, as workflow timers around short probes, until the node's learner has applied the
 * leader's index. No fixed limit: it waits as long as the applied index keeps moving (a multi-GB
 * database takes minutes), and fails after CATCH_UP_STALL_MS without progress. The step's detail
 * shows the applied index against the target as it goes.
 */
export async function waitCaughtUp(tracker: ProgressTracker, base: Base, node: string) {
  const id = `wait-caught-up:${node}`;
  let target: number | undefined;
  let last = -1;
  let lastMove = Date.now();
  for (;;) {
    const p = (await probes.learnerProgress({ ...base, node, forSeconds: 30, ...(target !== undefined ? { target } : {}) })).result;
    target = p.leaderIndex;
    if (p.caughtUp) return p;
    // Progress is the applied index or, while the leader's database streams in, its bytes.
    const moved = p.appliedIndex + (p.receivedBytes ?? 0);
    if (moved > last) { last = moved; lastMove = Date.now(); }
    tracker.step(id).detail = `applied ${p.appliedIndex} of ${p.leaderIndex}${p.totalBytes ? `; database ${(p.receivedBytes ?? 0) >> 20} of ${p.totalBytes >> 20} MiB` : ''}`;
    if (Date.now() - lastMove > CATCH_UP_STALL_MS) throw ApplicationFailure.nonRetryable(`${node}: learner applied nothing for ${CATCH_UP_STALL_MS / 1000} s (stuck at ${p.appliedIndex} of ${p.leaderIndex})`, 'LearnerStuck');
    await sleep('1 second');
  }
}

const ADD = 'reference 000 §5; etcd docs "Runtime reconfiguration" (https://etcd.io/docs/v3.5/op-guide/runtime-configuration/)';
const LEARNER = 'etcd docs "Learner" (https://etcd.io/docs/v3.5/learning/design-learner/)';
const RETIRE = 'reference 000 §7; etcd docs "Runtime reconfiguration": remove a member';

/**
 * The phases that bring `node` in as a voting member, one activity each: add learner, write
 * config, start, wait caught up, promote, wait healthy. Every step is idempotent, so a retried or
 * resumed run continues where it was. Registers, at the add, the undo of the member (cluster side:
 * leadership moved off, member removed) and of the node (etcd stopped and disabled, data dir moved
 * to `<dataDir>.aside-<tag>`, never deleted); a node that does not answer becomes a leftover for
 * `etcd-runbooks cleanup`.
 * Source: reference 000 §5; etcd docs "Runtime reconfiguration" and "Learner"; reference 004
 * (ETCD_INITIAL_CLUSTER_STATE=existing).
 */
export function addMemberPhases(tracker: ProgressTracker, base: Base, node: string, tag: string, onHealthy?: () => void): Phase[] {
  const n = { ...base, node };
  let initialCluster = '';
  return [
    {
      id: `add-learner:${node}`, title: `${node}: add as learner (member add --learner)`, node, source: `${ADD}; ${LEARNER}`,
      undo: [
        {
          id: `undo-member:${node}`, title: `${node}: move leadership off, remove its member`, node, side: 'cluster',
          run: async () => {
            await undoCluster.moveLeaderOff(n);
            const r = (await undoCluster.removeMember(n)).result;
            return r.removed ? `member ${r.removed} removed` : 'not a member';
          },
          leftover: { what: 'its member may still be in the cluster', fix: `etcd-runbooks remove-member --node ${node}` },
        },
        {
          id: `undo-node:${node}`, title: `${node}: stop and disable etcd, move the data dir aside`, node, side: 'node',
          run: async () => {
            await undo.stopMember(n);
            const r = (await undo.moveDataDirAside({ ...n, tag })).result;
            return r.movedTo ? `data dir moved to ${r.movedTo}` : 'no data to move';
          },
          leftover: { what: 'etcd may still run or be enabled there, with this run\'s member configuration and a non-empty data dir', fix: `etcd-runbooks cleanup --node ${node}` },
        },
      ],
      run: async () => {
        const r = (await changes.addLearner(n)).result;
        initialCluster = r.initialCluster;
        return `member ${r.memberId}${r.alreadyPresent ? ' (already present)' : ''}`;
      },
    },
    {
      id: `write-config:${node}`, title: `${node}: write member configuration (initial cluster, state existing, TLS)`, node, source: `${ADD}; reference 004 (ETCD_INITIAL_CLUSTER_STATE=existing)`,
      run: async () => {
        const r = (await long.writeMemberConfig({ ...n, initialCluster })).result;
        return `${r.path} ${r.changed ? 'written' : 'unchanged'}`;
      },
    },
    {
      id: `start:${node}`, title: `${node}: start etcd on the node`, node, source: ADD,
      run: async () => {
        const r = (await long.startMember(n)).result;
        return `member ${r.memberId} started${r.restartedStuckPublish ? ' (etcd restarted once: it was stuck publishing itself)' : ''}`;
      },
    },
    waitCaughtUpPhase(tracker, base, node),
    promotePhase(base, node),
    waitHealthyPhase(base, node, onHealthy),
  ];
}

/** `wait-caught-up:<node>`: waitCaughtUp as a phase. Source: etcd docs "Learner". */
export function waitCaughtUpPhase(tracker: ProgressTracker, base: Base, node: string): Phase {
  return {
    id: `wait-caught-up:${node}`, title: `${node}: wait until the learner has caught up with the leader`, node, source: LEARNER,
    run: async () => {
      const r = await waitCaughtUp(tracker, base, node);
      return `applied index ${r.appliedIndex} >= leader ${r.leaderIndex}`;
    },
  };
}

/** `promote:<node>`: member promote, idempotent; `onDone` receives the result. Source: etcd docs "Learner". */
export function promotePhase(base: Base, node: string, onDone?: (r: { memberId: string; alreadyVoter: boolean }) => void): Phase {
  return {
    id: `promote:${node}`, title: `${node}: promote the learner to a voting member`, node, source: LEARNER,
    members: (m) => ({ voters: m.voters + 1, serving: m.serving + 1 }),
    run: async () => {
      const r = (await changes.promoteLearner({ ...base, node })).result;
      onDone?.(r);
      return r.alreadyVoter ? 'already a voter' : `member ${r.memberId} promoted`;
    },
  };
}

/** `wait-healthy:<node>`: every member healthy. Source: reference 000 §5. */
export function waitHealthyPhase(base: Base, node: string, onDone?: () => void): Phase {
  return {
    id: `wait-healthy:${node}`, title: `${node}: wait until every member is healthy`, node, source: 'reference 000 §5 (endpoint health)',
    run: async () => {
      const r = (await long.waitClusterHealthy({ ...base, node })).result;
      onDone?.();
      return `${r.voters} voters healthy, leader ${r.leader}`;
    },
  };
}

/**
 * The phases that take `node`'s member out: leadership moved off it, (approved) member removed:
 * the point of no return; then etcd stopped and disabled and (approved) the data dir moved to
 * `<dataDir>.aside-<tag>`. With `reachable: false` the node-side phases are skipped (the node is
 * down) and say so. Past the removal a node that stops answering must not hold the run: its
 * node-side failures become leftovers (a removed member's etcd exits by itself if it starts;
 * cleanup finishes the node). `safePoint` says how the run reads if it ends after the removal;
 * `serving` whether the member served at pre-flight (for the plan's projection).
 * Source: reference 000 §7.
 */
export function retireMemberPhases(base: Base, node: string, tag: string, reachable: boolean, safePoint: string, serving: boolean): Phase[] {
  const n = { ...base, node };
  const notCleaned = { what: 'the removed member\'s etcd may still be enabled there, with its data dir', fix: `etcd-runbooks cleanup --node ${node}` };
  const unreachable = (why: string) => () => (reachable ? true as const : why);
  return [
    {
      id: `move-leader-off:${node}`, title: `${node}: move leadership to another voter if this member leads`, node, source: `${RETIRE}; etcdctl move-leader`,
      run: async () => {
        const r = (await changes.moveLeaderOff(n)).result;
        return r.movedTo ? `leadership moved to ${r.movedTo}` : 'not the leader';
      },
    },
    {
      id: `remove:${node}`, title: `${node}: remove the member (member remove)`, node, source: RETIRE,
      approval: { question: () => `remove ${node}'s member from cluster ${base.cluster}` },
      pointOfNoReturn: 'done',
      members: (m) => ({ voters: m.voters - 1, serving: m.serving - (serving ? 1 : 0) }),
      safePoint: () => ({ where: safePoint, leftovers: [{ node, what: 'etcd of the removed member may still be enabled, with its data dir', fix: `etcd-runbooks cleanup --node ${node}` }] }),
      run: async () => {
        const r = (await changes.removeMember(n)).result;
        return r.removed ? `member ${r.removed} removed` : 'not a member';
      },
    },
    {
      id: `stop:${node}`, title: `${node}: stop and disable etcd on the node`, node, source: RETIRE,
      runIf: unreachable('node unreachable; etcd there must not be started again with its old data'), tolerate: notCleaned,
      run: async () => `etcd ${(await undo.stopMember(n)).result.service}`,
    },
    {
      id: `move-aside:${node}`, title: `${node}: move the data dir aside`, node, source: `${RETIRE}; reference 002 (keep the old data)`,
      runIf: unreachable('node unreachable'), tolerate: notCleaned,
      approval: { question: () => `move ${node}'s data dir aside` },
      run: async () => {
        const r = (await undo.moveDataDirAside({ ...n, tag })).result;
        return r.movedTo ? `moved to ${r.movedTo}` : 'no data to move';
      },
    },
  ];
}
