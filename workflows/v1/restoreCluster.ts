// Frozen: the restoreCluster of 0.1, kept so runs started before the 0.2 safety changes replay and finish
// unchanged (routed here by patched('never-worse') in ../restoreCluster.ts). Do not edit; remove with the patch.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { RestoreInputSchema, type RestoreInput } from '../../domain/inputs';
import { addMemberSteps } from '../../domain/memberSteps';
import type { ApprovalRecord, PlanStep } from '../../domain/progress';
import { describeEvidence } from '../../domain/recovery';
import { changes, long, reads } from '../proxies';
import { addMember } from './memberSteps';
import { refuse, runTagV1, startRunbook } from '../runbook';

export interface RestoreResult {
  restoredOn: string;
  clusterId: string;
  previousClusterIds: string[];
  snapshotRevision: number;
  revision: number;
  members: string[];
  approvals: ApprovalRecord[];
}

/**
 * Disaster restore from a snapshot file. Nothing is touched until the snapshot passes its integrity
 * check and every member's node answers. Then (approved) etcd is fenced on every node (stopped,
 * disabled, masked: an empty etcd must never come up where Kubernetes would take it as the desired
 * state), (approved) every data dir is moved aside (never deleted), the snapshot is restored on one
 * node into a temporary dir with a fresh cluster token and that node's own name and peer URL,
 * renamed into place and started as a 1-member cluster; its advertised peer URL is checked and
 * fixed; then the other members join one at a time as learners with empty data dirs and are promoted.
 * Source: reference 000 §8.4; 001 (restore then join); 002 (localhost peer URL); 003 (fence first,
 * ownership).
 */
export async function restoreClusterV1(raw: RestoreInput): Promise<RestoreResult> {
  const { input, base, tracker, gate } = startRunbook('restoreCluster', RestoreInputSchema, raw);
  const restoreOn = input.restoreOn ?? input.members[0];
  const others = input.members.filter((n) => n !== restoreOn);
  const tag = runTagV1('restore', workflowInfo().runId);
  const token = `${input.cluster}-${tag}`;
  const steps: PlanStep[] = [
    { id: 'preflight', title: 'pre-flight: snapshot integrity, every member node answers', status: 'running' },
    ...input.members.map((n): PlanStep => ({ id: `fence:${n}`, title: `${n}: stop, disable and mask etcd`, node: n, status: 'pending' })),
    ...input.members.map((n): PlanStep => ({ id: `move-aside:${n}`, title: `${n}: move the data dir aside`, node: n, status: 'pending' })),
    { id: 'copy-snapshot', title: `copy the snapshot to ${restoreOn} and verify it there`, node: restoreOn, status: 'pending' },
    { id: `restore:${restoreOn}`, title: `${restoreOn}: snapshot restore into a temporary dir, rename into place, chown`, node: restoreOn, status: 'pending' },
    { id: `start-restored:${restoreOn}`, title: `${restoreOn}: start as a new 1-member cluster, verify revision`, node: restoreOn, status: 'pending' },
    { id: `peer-url:${restoreOn}`, title: `${restoreOn}: check and fix the advertised peer URL`, node: restoreOn, status: 'pending' },
    ...others.flatMap(addMemberSteps),
    { id: 'verify', title: 'verify: all members voting, healthy, equal hashkv', status: 'pending' },
  ];
  tracker.setSteps(steps);

  const check = (await reads.verifySnapshot({ ...base, node: input.snapshot.node, path: input.snapshot.path })).result;
  const evidence = (await reads.gatherEvidence({ ...base, nodes: input.members })).result;
  const problems: string[] = [];
  if (!check.ok) problems.push(`snapshot ${input.snapshot.node}:${input.snapshot.path} failed its integrity check: ${check.error}`);
  for (const e of evidence) if (!e.reachable) problems.push(`${e.node} does not answer; every member's node must be fenced before a restore`);
  tracker.step('preflight').detail = evidence.map(describeEvidence).join('; ');
  if (problems.length || !check.ok) refuse(tracker, problems);
  tracker.step('preflight').status = 'done';
  const snap = check.info;
  tracker.progress.outcome = 'running';

  await gate.require('fence', `stop, disable and mask etcd on ${input.members.join(', ')} (the cluster goes down)`);
  for (const n of input.members) await tracker.run(`fence:${n}`, async () => (await changes.fenceMember({ ...base, node: n })).result, (r) => `etcd ${r.service}, masked`);
  await gate.require('move-aside', `move the data dirs of ${input.members.join(', ')} aside`);
  for (const n of input.members) {
    await tracker.run(`move-aside:${n}`, async () => (await changes.moveDataDirAside({ ...base, node: n, tag })).result, (r) => (r.movedTo ? `moved to ${r.movedTo}` : 'no data to move'));
  }
  const local = await tracker.run('copy-snapshot', async () => (await long.copySnapshot({ ...base, from: input.snapshot.node, path: input.snapshot.path, to: restoreOn })).result,
    (c) => `${restoreOn}:${c.path} verified (rev ${c.revision})`);
  await gate.require(`restore:${restoreOn}`, `restore ${input.snapshot.path} (revision ${snap.revision}) on ${restoreOn} as a new cluster`);
  await tracker.run(`restore:${restoreOn}`, async () => (await long.restoreDataDir({ ...base, node: restoreOn, path: local.path, token, tag })).result,
    (r) => `${r.dataDir} ${r.restored ? 'restored' : 'already restored'}`);
  const started = await tracker.run(`start-restored:${restoreOn}`, async () => (await long.startRestoredMember({ ...base, node: restoreOn, token })).result,
    (v) => `cluster ${v.clusterId}, revision ${v.status.revision}`);
  if (started.status.revision < snap.revision) throw ApplicationFailure.nonRetryable(`${restoreOn}: restored revision ${started.status.revision} is below the snapshot's ${snap.revision}`, 'InvariantViolated');
  await tracker.run(`peer-url:${restoreOn}`, async () => (await changes.ensurePeerURL({ ...base, node: restoreOn })).result,
    (r) => (r.updated ? `was ${r.before.join(',')}; fixed` : 'correct'));
  for (const n of others) await addMember(tracker, base, n);
  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv equal at revision ${r.revision}`);
  tracker.progress.outcome = 'completed';
  return {
    restoredOn: restoreOn, clusterId: verified.state.clusterId,
    previousClusterIds: [...new Set(evidence.flatMap((e) => (e.clusterId ? [e.clusterId] : [])))],
    snapshotRevision: snap.revision, revision: verified.revision,
    members: verified.state.members.map((m) => m.name).sort(), approvals: tracker.progress.approvals,
  };
}
