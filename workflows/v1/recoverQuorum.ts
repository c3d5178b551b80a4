// Frozen: the recoverQuorum of 0.1, kept so runs started before the 0.2 safety changes replay and finish
// unchanged (routed here by patched('never-worse') in ../recoverQuorum.ts). Do not edit; remove with the patch.
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { RecoverQuorumInputSchema, type RecoverQuorumInput } from '../../domain/inputs';
import { addMemberSteps } from '../../domain/memberSteps';
import type { ApprovalRecord, PlanStep } from '../../domain/progress';
import { hasQuorum } from '../../domain/quorum';
import { chooseSurvivorV1 as chooseSurvivor, describeEvidence } from '../../domain/recovery';
import { changes, long, reads } from '../proxies';
import { addMember } from './memberSteps';
import { refuse, runTagV1, startRunbook } from '../runbook';

export interface RecoverQuorumResult {
  survivor: string;
  evidence: string[];
  readded: string[];
  revision: number;
  members: string[];
  approvals: ApprovalRecord[];
}

/**
 * Recovers a cluster that lost quorum. Gathers evidence (raft term, index, revision) from every
 * member node that answers and picks the most advanced survivor, showing the evidence in the plan.
 * Refuses if the cluster still has quorum. Then (approved) etcd is fenced on every node that
 * answers, every data dir is copied aside while stopped, (approved) the survivor restarts with --force-new-cluster
 * (a drop-in), is verified as a healthy 1-member cluster with its data, and restarts without the
 * flag (checked in the running process: a leftover flag is a classic outage). Each other node,
 * once it answers again, is fenced, (approved) its data dir moved aside, and re-added as a learner
 * with an empty data dir and promoted, one at a time.
 * Source: reference 001 (quorum loss, --force-new-cluster); 002 (restore as a single node with
 * --force-new-cluster, then add members); 004 (ETCD_FORCE_NEW_CLUSTER drop-in, remove it afterwards).
 */
export async function recoverQuorumV1(raw: RecoverQuorumInput): Promise<RecoverQuorumResult> {
  const { input, base, tracker, gate } = startRunbook('recoverQuorum', RecoverQuorumInputSchema, raw);
  const tag = runTagV1('recover', workflowInfo().runId);
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight: evidence from every member node, quorum really lost', status: 'running' }]);
  const evidence = (await reads.gatherEvidence({ ...base, nodes: input.members })).result;
  const lines = evidence.map(describeEvidence);
  const survivor = chooseSurvivor(evidence);
  const problems: string[] = [];
  if (!survivor) problems.push('no member node showed any etcd data; restore from a snapshot instead (restoreCluster)');
  const running = evidence.filter((e) => e.source === 'status');
  if (running.length && hasQuorum(input.members.length, running.length)) {
    const state = (await reads.inspectCluster(base)).result;
    const voters = state.members.filter((m) => !m.isLearner);
    if (state.leader && hasQuorum(voters.length, voters.filter((m) => m.healthy).length)) problems.push('the cluster has quorum; replace the failed members instead (replaceMember)');
  }
  tracker.step('preflight').detail = lines.join('; ');
  if (problems.length || !survivor) refuse(tracker, problems);
  const others = input.members.filter((n) => n !== survivor.node);
  // Every reachable node is fenced, the survivor too: its data dir is copied while etcd is stopped.
  const reachable = evidence.filter((e) => e.reachable).map((e) => e.node);
  const steps: PlanStep[] = [
    { ...tracker.step('preflight'), status: 'done', detail: `survivor ${survivor.node} (${describeEvidence(survivor)}); ${lines.join('; ')}` },
    ...reachable.map((n): PlanStep => ({ id: `fence:${n}`, title: `${n}: stop, disable and mask etcd`, node: n, status: 'pending' })),
    ...evidence.filter((e) => e.reachable).map((e): PlanStep => ({ id: `backup-data:${e.node}`, title: `${e.node}: copy the data dir aside`, node: e.node, status: 'pending' })),
    { id: `force-new-cluster:${survivor.node}`, title: `${survivor.node}: restart with --force-new-cluster, verify a 1-member cluster with its data`, node: survivor.node, status: 'pending' },
    { id: `clear-flag:${survivor.node}`, title: `${survivor.node}: remove --force-new-cluster, restart, verify the process runs without it`, node: survivor.node, status: 'pending' },
    { id: `peer-url:${survivor.node}`, title: `${survivor.node}: check and fix the advertised peer URL`, node: survivor.node, status: 'pending' },
    ...others.flatMap((n): PlanStep[] => [
      { id: `wait-reachable:${n}`, title: `${n}: wait until the node answers (repair it if needed)`, node: n, status: 'pending' },
      { id: `refence:${n}`, title: `${n}: stop, disable and mask its stale etcd`, node: n, status: 'pending' },
      { id: `move-aside:${n}`, title: `${n}: move the stale data dir aside`, node: n, status: 'pending' },
      ...addMemberSteps(n),
    ]),
    { id: 'verify', title: 'verify: all members voting, healthy, equal hashkv', status: 'pending' },
  ];
  tracker.setSteps(steps);
  tracker.progress.outcome = 'running';
  const s = survivor.node;

  await gate.require('fence', `stop, disable and mask etcd on ${reachable.join(', ')} and copy their data dirs aside`);
  for (const n of reachable) await tracker.run(`fence:${n}`, async () => (await changes.fenceMember({ ...base, node: n })).result, (r) => `etcd ${r.service}, masked`);
  for (const e of evidence.filter((x) => x.reachable)) {
    await tracker.run(`backup-data:${e.node}`, async () => (await long.backupDataDir({ ...base, node: e.node, tag })).result, (r) => (r.copy ? `copied to ${r.copy}` : 'no data dir'));
  }
  await gate.require(`force-new-cluster:${s}`, `restart ${s} with --force-new-cluster (the membership becomes ${s} alone)`);
  const single = await tracker.run(`force-new-cluster:${s}`, async () => (await long.forceNewCluster({ ...base, node: s })).result,
    (v) => `1-member cluster ${v.clusterId}, revision ${v.status.revision}`);
  if (survivor.revision !== undefined && single.status.revision < survivor.revision) throw ApplicationFailure.nonRetryable(`${s}: revision ${single.status.revision} after --force-new-cluster is below the ${survivor.revision} it had`, 'InvariantViolated');
  await tracker.run(`clear-flag:${s}`, async () => (await long.clearForceNewCluster({ ...base, node: s })).result,
    (v) => `running without the flag (drop-in ${v.flag.dropIn}, process ${v.flag.inProcess}), revision ${v.status.revision}`);
  await tracker.run(`peer-url:${s}`, async () => (await changes.ensurePeerURL({ ...base, node: s })).result, (r) => (r.updated ? `was ${r.before.join(',')}; fixed` : 'correct'));

  for (const n of others) {
    await tracker.run(`wait-reachable:${n}`, async () => (await long.waitReachable({ ...base, node: n, timeoutSeconds: input.waitForNodesSeconds })).result, () => 'answers');
    await tracker.run(`refence:${n}`, async () => (await changes.fenceMember({ ...base, node: n })).result, (r) => `etcd ${r.service}, masked`);
    await gate.require(`move-aside:${n}`, `move ${n}'s stale data dir aside`);
    await tracker.run(`move-aside:${n}`, async () => (await changes.moveDataDirAside({ ...base, node: n, tag })).result, (r) => (r.movedTo ? `moved to ${r.movedTo}` : 'no data to move'));
    await addMember(tracker, base, n);
  }
  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv equal at revision ${r.revision}`);
  tracker.progress.outcome = 'completed';
  return { survivor: s, evidence: lines, readded: others, revision: verified.revision, members: verified.state.members.map((m) => m.name).sort(), approvals: tracker.progress.approvals };
}
