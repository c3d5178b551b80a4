import { patched, workflowInfo } from '@temporalio/workflow';
import { preflightReads } from './preflight';
import { MigrateMemberInputSchema, type MigrateMemberInput } from '../domain/inputs';
import { addMemberSteps, retireMemberSteps } from '../domain/memberSteps';
import type { ApprovalRecord, PlanStep } from '../domain/progress';
import { planMigrate } from '../domain/replacePlans';
import { describeVersions } from '../domain/etcdVersion';
import { long, reads } from './proxies';
import { describeLiveness } from '../domain/liveness';
import { addMember, retireMember, undoAddedMembers } from './memberSteps';
import { endAfterCompensation, stopAtSafePoint } from './compensation';
import { NEVER_WORSE, refuse, runTag, startRunbook } from './runbook';
import { migrateMemberV1 } from './v1/migrateMember';
import { finishWithKubeSync, kubePlanSteps, planKubeSync } from './kubeSync';

export interface MigrateMemberResult { from: string; to: string; snapshot: string; voters: number; approvals: ApprovalRecord[] }

/**
 * Moves a member to another node without ever lowering fault tolerance: verified snapshot, add the
 * target as a learner, start, catch up, promote; then move leadership off the source if it leads,
 * (approved) remove the source, stop its etcd and (approved) move its data dir aside.
 * Point of no return: the removal of the source. A failure or cancel before it takes the target
 * out again (the cluster is as it started); after it, the run stops with the source removed and
 * its node's clean-up recorded as a leftover. Source: reference 000 §8.3.
 */
export async function migrateMember(raw: MigrateMemberInput): Promise<MigrateMemberResult> {
  if (!patched(NEVER_WORSE)) return migrateMemberV1(raw);
  const { input, base, tracker, gate } = startRunbook('migrateMember', MigrateMemberInputSchema, raw);
  const { state, liveness, readiness: [from, to] } = await preflightReads(base, [input.from, input.to]);
  tracker.progress.liveness = liveness.map(describeLiveness);
  const plan = planMigrate(state.members, from, to, Math.max(0, ...state.members.map((m) => m.status?.dbSize ?? 0)), state.clusterVersion?.version);
  tracker.progress.liveness?.push(describeVersions(state.clusterVersion, [to]));
  const steps: PlanStep[] = [
    { id: 'preflight', title: 'pre-flight checks (every voter healthy, target ready)', status: 'done' },
    { id: 'snapshot', title: 'snapshot on the leader, integrity verified', status: 'pending' },
    ...(plan.addTarget ? addMemberSteps(input.to) : []),
    ...(plan.removeSource ? retireMemberSteps(input.from) : []),
    { id: 'verify', title: 'verify: all members voting, healthy, equal hashkv', status: 'pending' },
  ];
  const kube = await planKubeSync(base, { requireReady: true });
  tracker.setSteps([...steps, ...kubePlanSteps(kube)]);
  const problems = [...plan.problems, ...(kube?.problems ?? [])];
  if (problems.length) refuse(tracker, problems);
  tracker.progress.outcome = 'running';
  const tag = runTag('migrate', workflowInfo().runId);
  let snap;
  let added = false;
  try {
    snap = await tracker.run('snapshot', async () => (await long.takeSnapshot({ ...base, label: tag })).result, (s) => `${s.node}:${s.path} rev ${s.revision}`);
    if (plan.addTarget) {
      added = true;
      await addMember(tracker, base, input.to);
    }
    if (plan.removeSource) await retireMember(tracker, gate, base, input.from, tag, from.reachable);
  } catch (e) {
    if (plan.removeSource && tracker.step(`remove:${input.from}`).status === 'done') {
      stopAtSafePoint(tracker, e, `${input.to} was added and ${input.from}'s member removed; ${input.from} was not cleaned up`, [{ node: input.from, what: 'etcd of the removed member may still be enabled, with its data dir', fix: `etcd-runbooks cleanup --node ${input.from}` }]);
    }
    const leftovers = added ? await undoAddedMembers(tracker, base, [input.to], tag) : [];
    endAfterCompensation(tracker, e, added ? `${input.to} was taken out again; the cluster is as it started` : 'nothing was changed', leftovers);
  }
  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv ${r.hash} equal at revision ${r.revision}`);
  await finishWithKubeSync(tracker, base, kube);
  tracker.progress.outcome = 'completed';
  return { from: input.from, to: input.to, snapshot: `${snap.node}:${snap.path}`, voters: verified.state.members.filter((m) => !m.isLearner).length, approvals: tracker.progress.approvals };
}
