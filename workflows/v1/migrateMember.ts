// Frozen: the migrateMember of 0.1, kept so runs started before the 0.2 safety changes replay and finish
// unchanged (routed here by patched('never-worse') in ../migrateMember.ts). Do not edit; remove with the patch.
import { workflowInfo } from '@temporalio/workflow';
import { MigrateMemberInputSchema, type MigrateMemberInput } from '../../domain/inputs';
import { addMemberSteps, retireMemberSteps } from '../../domain/memberSteps';
import type { ApprovalRecord, PlanStep } from '../../domain/progress';
import { planMigrate } from '../../domain/replacePlans';
import { long, reads } from '../proxies';
import { addMember, retireMember, undoAddedMember } from './memberSteps';
import { refuse, runTagV1, startRunbook } from '../runbook';
import { errorMessage } from '../steps';

export interface MigrateMemberResult { from: string; to: string; snapshot: string; voters: number; approvals: ApprovalRecord[] }

/**
 * Moves a member to another node without ever lowering fault tolerance: verified snapshot, add the
 * target as a learner, start, catch up, promote; then move leadership off the source if it leads,
 * (approved) remove the source, stop its etcd and (approved) move its data dir aside. If adding the
 * target fails it is removed again and the cluster is as it started. Source: reference 000 §8.3.
 */
export async function migrateMemberV1(raw: MigrateMemberInput): Promise<MigrateMemberResult> {
  const { input, base, tracker, gate } = startRunbook('migrateMember', MigrateMemberInputSchema, raw);
  const state = (await reads.inspectCluster(base)).result;
  const [from, to] = (await reads.inspectNodes({ ...base, nodes: [input.from, input.to] })).result;
  const plan = planMigrate(state.members, from, to);
  const steps: PlanStep[] = [
    { id: 'preflight', title: 'pre-flight checks (every voter healthy, target ready)', status: 'done' },
    { id: 'snapshot', title: 'snapshot on the leader, integrity verified', status: 'pending' },
    ...(plan.addTarget ? addMemberSteps(input.to) : []),
    ...(plan.removeSource ? retireMemberSteps(input.from) : []),
    { id: 'verify', title: 'verify: all members voting, healthy, equal hashkv', status: 'pending' },
  ];
  tracker.setSteps(steps);
  if (plan.problems.length) refuse(tracker, plan.problems);
  tracker.progress.outcome = 'running';
  const tag = runTagV1('migrate', workflowInfo().runId);
  const snap = await tracker.run('snapshot', async () => (await long.takeSnapshot({ ...base, label: tag })).result, (s) => `${s.node}:${s.path} rev ${s.revision}`);
  if (plan.addTarget) {
    try {
      await addMember(tracker, base, input.to);
    } catch (e) {
      await undoAddedMember(tracker, base, input.to, tag);
      tracker.progress.outcome = 'compensated';
      tracker.progress.message = `adding ${input.to} failed (${errorMessage(e)}) and was undone; the cluster is as it started`;
      throw e;
    }
  }
  if (plan.removeSource) await retireMember(tracker, gate, base, input.from, tag, from.reachable);
  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv ${r.hash} equal at revision ${r.revision}`);
  tracker.progress.outcome = 'completed';
  return { from: input.from, to: input.to, snapshot: `${snap.node}:${snap.path}`, voters: verified.state.members.filter((m) => !m.isLearner).length, approvals: tracker.progress.approvals };
}
