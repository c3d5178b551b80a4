// Frozen: the replaceMember of 0.1, kept so runs started before the 0.2 safety changes replay and finish
// unchanged (routed here by patched('never-worse') in ../replaceMember.ts). Do not edit; remove with the patch.
import { workflowInfo } from '@temporalio/workflow';
import { ReplaceMemberInputSchema, type ReplaceMemberInput } from '../../domain/inputs';
import { addMemberSteps, retireMemberSteps } from '../../domain/memberSteps';
import type { ApprovalRecord, PlanStep } from '../../domain/progress';
import { planReplace } from '../../domain/replacePlans';
import { long, reads } from '../proxies';
import { addMember, retireMember, undoAddedMember } from './memberSteps';
import { refuse, runTagV1, startRunbook } from '../runbook';
import { errorMessage } from '../steps';

export interface ReplaceMemberResult { removed: string; added?: string; snapshot: string; voters: number; approvals: ApprovalRecord[] }

/**
 * Replaces a failed member. The failed node may be down (crashed, partitioned) or up but broken.
 * Verified snapshot; then (approved) removal of the failed member through the healthy ones; if its
 * node answers, etcd stopped and disabled there and (approved) its data dir moved aside; then the
 * replacement (the same node after repair, or another) added as a learner with an empty data dir,
 * started, caught up and promoted. If adding fails, the half-added member is removed again: the
 * cluster is left one member short but healthy (a safe stopping point; run again to finish).
 * A failed node that comes back later with its old data cannot rejoin: its member ID was removed,
 * and etcd there stops with "the member has been permanently removed from the cluster".
 * Source: reference 000 §8.2; 001; 002; 004.
 */
export async function replaceMemberV1(raw: ReplaceMemberInput): Promise<ReplaceMemberResult> {
  const { input, base, tracker, gate } = startRunbook('replaceMember', ReplaceMemberInputSchema, raw);
  const replacement = input.replacement ?? input.failed;
  const state = (await reads.inspectCluster(base)).result;
  const nodes = [...new Set([input.failed, replacement])];
  const readiness = (await reads.inspectNodes({ ...base, nodes })).result;
  const failed = readiness[0];
  const rep = readiness[nodes.indexOf(replacement)];
  const plan = planReplace(state.members, failed, rep);
  const steps: PlanStep[] = [
    { id: 'preflight', title: 'pre-flight checks (quorum without the failed member, replacement ready)', status: 'done' },
    { id: 'snapshot', title: 'snapshot on the leader, integrity verified', status: 'pending' },
    ...retireMemberSteps(input.failed),
    ...(plan.addReplacement ? addMemberSteps(replacement) : []),
    { id: 'verify', title: 'verify: all members voting, healthy, equal hashkv', status: 'pending' },
  ];
  tracker.setSteps(steps);
  if (plan.problems.length) refuse(tracker, plan.problems);
  tracker.progress.outcome = 'running';
  const tag = runTagV1('replace', workflowInfo().runId);
  const snap = await tracker.run('snapshot', async () => (await long.takeSnapshot({ ...base, label: tag })).result, (s) => `${s.node}:${s.path} rev ${s.revision}`);
  await retireMember(tracker, gate, base, input.failed, tag, failed.reachable);
  if (plan.addReplacement) {
    try {
      await addMember(tracker, base, replacement);
    } catch (e) {
      tracker.progress.message = `adding ${replacement} failed: ${errorMessage(e)}; removing it again`;
      await undoAddedMember(tracker, base, replacement, tag);
      tracker.progress.outcome = 'compensated';
      tracker.progress.message = `stopped at a safe point: ${input.failed} was removed, adding ${replacement} failed (${errorMessage(e)}) and was undone; the cluster has one member fewer; fix ${replacement} and run again`;
      throw e;
    }
  }
  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv ${r.hash} equal at revision ${r.revision}`);
  tracker.progress.outcome = 'completed';
  return {
    removed: input.failed, ...(plan.addReplacement ? { added: replacement } : {}), snapshot: `${snap.node}:${snap.path}`,
    voters: verified.state.members.filter((m) => !m.isLearner).length, approvals: tracker.progress.approvals,
  };
}
