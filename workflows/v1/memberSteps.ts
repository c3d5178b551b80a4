// Frozen helpers of the 0.1 runbooks (see the other files in this folder). Do not edit.
import type { ApprovalGate } from '../approval';
import { changes, long, type Base } from '../proxies';
import type { ProgressTracker } from '../steps';

/**
 * Brings `node` in as a voting member, one step per activity: add learner, write config, start,
 * wait caught up, promote, wait healthy. Every step is idempotent, so a retried or resumed run
 * continues where it was. The plan must contain addMemberSteps(node).
 */
export async function addMember(tracker: ProgressTracker, base: Base, node: string): Promise<{ memberId: string }> {
  const n = { ...base, node };
  const learner = await tracker.run(`add-learner:${node}`, async () => (await changes.addLearner(n)).result,
    (r) => `member ${r.memberId}${r.alreadyPresent ? ' (already present)' : ''}`);
  await tracker.run(`write-config:${node}`, async () => (await changes.writeMemberConfig({ ...n, initialCluster: learner.initialCluster })).result,
    (r) => `${r.path} ${r.changed ? 'written' : 'unchanged'}`);
  await tracker.run(`start:${node}`, async () => (await long.startMember(n)).result, (r) => `member ${r.memberId} started`);
  await tracker.run(`wait-caught-up:${node}`, async () => (await long.waitLearnerCaughtUp(n)).result,
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
 * retireMemberSteps(node).
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
  await tracker.run(`stop:${node}`, async () => (await changes.stopMember(n)).result, (r) => `etcd ${r.service}`);
  await gate?.require(`move-aside:${node}`, `move ${node}'s data dir aside`);
  await tracker.run(`move-aside:${node}`, async () => (await changes.moveDataDirAside({ ...n, tag })).result,
    (r) => (r.movedTo ? `moved to ${r.movedTo}` : 'no data to move'));
}

/**
 * Compensation for a member this run added: leadership moved off it, member removed, etcd stopped
 * and disabled, data dir moved to `<dataDir>.aside-<tag>` (never deleted). Automatic (it undoes the
 * run's own change), so no approval. Marks the node's finished steps `compensated`.
 */
export async function undoAddedMember(tracker: ProgressTracker, base: Base, node: string, tag: string): Promise<void> {
  const n = { ...base, node };
  const id = `compensate:${node}`;
  tracker.progress.steps.push({ id, title: `${node}: remove member, stop etcd, move data dir aside`, node, status: 'pending' });
  await tracker.run(id, async () => {
    await changes.moveLeaderOff(n);
    await changes.removeMember(n);
    await changes.stopMember(n);
    return (await changes.moveDataDirAside({ ...n, tag })).result;
  }, (r) => (r.movedTo ? `data dir moved to ${r.movedTo}` : 'no data to move'));
  for (const s of tracker.progress.steps) if (s.node === node && s.status === 'done') s.status = 'compensated';
  tracker.step(id).status = 'compensated';
}
