import { ApplicationFailure, isCancellation, sleep } from '@temporalio/workflow';
import type { Leftover } from '../domain/progress';
import type { ApprovalGate } from './approval';
import { compensate, recordLeftovers, type UndoStep } from './compensation';
import { changes, long, probes, undo, undoCluster, type Base } from './proxies';
import { errorMessage, type ProgressTracker } from './steps';

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

/**
 * Brings `node` in as a voting member, one step per activity: add learner, write config, start,
 * wait caught up, promote, wait healthy. Every step is idempotent, so a retried or resumed run
 * continues where it was. The plan must contain addMemberSteps(node).
 * Source: reference 000 §5; etcd docs "Runtime reconfiguration" and "Learner".
 */
export async function addMember(tracker: ProgressTracker, base: Base, node: string): Promise<{ memberId: string }> {
  const n = { ...base, node };
  const learner = await tracker.run(`add-learner:${node}`, async () => (await changes.addLearner(n)).result,
    (r) => `member ${r.memberId}${r.alreadyPresent ? ' (already present)' : ''}`);
  await tracker.run(`write-config:${node}`, async () => (await long.writeMemberConfig({ ...n, initialCluster: learner.initialCluster })).result,
    (r) => `${r.path} ${r.changed ? 'written' : 'unchanged'}`);
  await tracker.run(`start:${node}`, async () => (await long.startMember(n)).result, (r) => `member ${r.memberId} started${r.restartedStuckPublish ? ' (etcd restarted once: it was stuck publishing itself)' : ''}`);
  await tracker.run(`wait-caught-up:${node}`, () => waitCaughtUp(tracker, base, node),
    (r) => `applied index ${r.appliedIndex} >= leader ${r.leaderIndex}`);
  await tracker.run(`promote:${node}`, async () => (await changes.promoteLearner(n)).result,
    (r) => (r.alreadyVoter ? 'already a voter' : `member ${r.memberId} promoted`));
  await tracker.run(`wait-healthy:${node}`, async () => (await long.waitClusterHealthy(n)).result,
    (r) => `${r.voters} voters healthy, leader ${r.leader}`);
  return { memberId: learner.memberId };
}

/**
 * Takes `node`'s member out: leadership moved off it, member removed (after approval), etcd stopped
 * and disabled, data dir moved to `<dataDir>.aside-<tag>` (after approval). With `reachable: false`
 * the node-side steps are skipped (the node is down) and say so. The plan must contain
 * retireMemberSteps(node). Source: reference 000 §7.
 */
export async function retireMember(tracker: ProgressTracker, gate: ApprovalGate | undefined, base: Base, node: string, tag: string, reachable = true): Promise<void> {
  const n = { ...base, node };
  await tracker.run(`move-leader-off:${node}`, async () => (await changes.moveLeaderOff(n)).result,
    (r) => (r.movedTo ? `leadership moved to ${r.movedTo}` : 'not the leader'));
  await gate?.require(`remove:${node}`, `remove ${node}'s member from cluster ${base.cluster}`);
  await tracker.run(`remove:${node}`, async () => (await changes.removeMember(n)).result,
    (r) => (r.removed ? `member ${r.removed} removed` : 'not a member'));
  if (!reachable) {
    tracker.skip(`stop:${node}`, 'node unreachable; etcd there must not be started again with its old data');
    tracker.skip(`move-aside:${node}`, 'node unreachable');
    return;
  }
  // The member is out: a node that stops answering now must not hold the run. What is left on it
  // is recorded (a removed member's etcd exits by itself if it starts; cleanup finishes the node).
  try {
    await tracker.run(`stop:${node}`, async () => (await undo.stopMember(n)).result, (r) => `etcd ${r.service}`);
    await gate?.require(`move-aside:${node}`, `move ${node}'s data dir aside`);
    await tracker.run(`move-aside:${node}`, async () => (await undo.moveDataDirAside({ ...n, tag })).result,
      (r) => (r.movedTo ? `moved to ${r.movedTo}` : 'no data to move'));
  } catch (e) {
    if (isCancellation(e) || ['ApprovalTimeout', 'Rejected'].includes((e as { type?: string }).type ?? '') || errorMessage(e).includes('not approved')) throw e;
    recordLeftovers(tracker, [{ node, what: `the removed member's etcd may still be enabled there, with its data dir (${errorMessage(e).slice(0, 120)})`, fix: `etcd-runbooks cleanup --node ${node}` }]);
  }
}

/**
 * Compensation for the members this run added, newest first: cluster side for all of them first
 * (leadership moved off, member removed), then node side (etcd stopped and disabled, data dir moved
 * to `<dataDir>.aside-<tag>`, never deleted). Automatic (it undoes the run's own change), so no
 * approval; runs even when the run was cancelled; a node that does not answer becomes a leftover
 * for `etcd-runbooks cleanup`. Marks the nodes' finished steps `compensated`.
 */
export async function undoAddedMembers(tracker: ProgressTracker, base: Base, nodes: string[], tag: string): Promise<Leftover[]> {
  const order = [...nodes].reverse();
  const cleanup = (node: string) => `etcd-runbooks cleanup --node ${node}`;
  const steps: UndoStep[] = [
    ...order.map((node): UndoStep => ({
      id: `undo-member:${node}`, title: `${node}: move leadership off, remove its member`, node,
      run: async () => {
        await undoCluster.moveLeaderOff({ ...base, node });
        const r = (await undoCluster.removeMember({ ...base, node })).result;
        return r.removed ? `member ${r.removed} removed` : 'not a member';
      },
      leftover: { what: 'its member may still be in the cluster', fix: `etcd-runbooks remove-member --node ${node}` },
    })),
    ...order.map((node): UndoStep => ({
      id: `undo-node:${node}`, title: `${node}: stop and disable etcd, move the data dir aside`, node,
      run: async () => {
        await undo.stopMember({ ...base, node });
        const r = (await undo.moveDataDirAside({ ...base, node, tag })).result;
        return r.movedTo ? `data dir moved to ${r.movedTo}` : 'no data to move';
      },
      leftover: { what: 'etcd may still run or be enabled there, with this run\'s member configuration and a non-empty data dir', fix: cleanup(node) },
    })),
  ];
  const leftovers = await compensate(tracker, steps);
  for (const s of tracker.progress.steps) if (s.node && nodes.includes(s.node) && s.status === 'done') s.status = 'compensated';
  return leftovers;
}
