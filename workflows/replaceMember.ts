import { patched, workflowInfo } from '@temporalio/workflow';
import { preflightReads } from './preflight';
import { ReplaceMemberInputSchema, type ReplaceMemberInput } from '../domain/inputs';
import { addMemberSteps, retireMemberSteps } from '../domain/memberSteps';
import type { ApprovalRecord, PlanStep } from '../domain/progress';
import { planReplace } from '../domain/replacePlans';
import { describeVersions } from '../domain/etcdVersion';
import { long, reads } from './proxies';
import { describeLiveness } from '../domain/liveness';
import { addMember, retireMember, undoAddedMembers } from './memberSteps';
import { endAfterCompensation, stopAtSafePoint } from './compensation';
import { NEVER_WORSE, refuse, runTag, startRunbook } from './runbook';
import { replaceMemberV1 } from './v1/replaceMember';
import { finishWithKubeSync, kubePlanSteps, planKubeSync } from './kubeSync';

export interface ReplaceMemberResult { removed: string; added?: string; snapshot: string; voters: number; approvals: ApprovalRecord[] }

/**
 * Replaces a failed member. The failed node may be down (crashed, partitioned) or up but broken;
 * a member whose etcd answers is healthy and is refused, whatever SSH says. Verified snapshot;
 * then (approved) removal of the failed member through the healthy ones; if its node answers,
 * etcd stopped and disabled there and (approved) its data dir moved aside; then the replacement
 * (the same node after repair, or another) added as a learner with an empty data dir, started,
 * caught up and promoted.
 * Point of no return: the removal of the failed member. A failure or cancel before it changes
 * nothing; after it, the half-added replacement is removed again and the run stops at the safe
 * point "one member short but healthy" (run again, or add-member, to finish).
 * A failed node that comes back later with its old data cannot rejoin: its member ID was removed,
 * and etcd there stops with "the member has been permanently removed from the cluster".
 * Source: reference 000 §8.2; 001; 002; 004.
 */
export async function replaceMember(raw: ReplaceMemberInput): Promise<ReplaceMemberResult> {
  if (!patched(NEVER_WORSE)) return replaceMemberV1(raw);
  const { input, base, tracker, gate } = startRunbook('replaceMember', ReplaceMemberInputSchema, raw);
  const replacement = input.replacement ?? input.failed;
  const nodes = [...new Set([input.failed, replacement])];
  const { state, liveness, readiness } = await preflightReads(base, nodes);
  tracker.progress.liveness = liveness.map(describeLiveness);
  const failed = readiness[0];
  const rep = readiness[nodes.indexOf(replacement)];
  const plan = planReplace(state.members, failed, rep, Math.max(0, ...state.members.map((m) => m.status?.dbSize ?? 0)), state.clusterVersion?.version);
  tracker.progress.liveness?.push(describeVersions(state.clusterVersion, [rep]));
  const steps: PlanStep[] = [
    { id: 'preflight', title: 'pre-flight checks (quorum without the failed member, replacement ready)', status: 'done' },
    { id: 'snapshot', title: 'snapshot on the leader, integrity verified', status: 'pending' },
    ...retireMemberSteps(input.failed),
    ...(plan.addReplacement ? addMemberSteps(replacement) : []),
    { id: 'verify', title: 'verify: all members voting, healthy, equal hashkv', status: 'pending' },
  ];
  // The failed node may be a control-plane node too (BCM's head node): its apiserver is not required.
  const kube = await planKubeSync(base, { requireReady: true, except: [input.failed] });
  tracker.setSteps([...steps, ...kubePlanSteps(kube)]);
  const problems = [...plan.problems, ...(kube?.problems ?? [])];
  if (problems.length) refuse(tracker, problems);
  tracker.progress.outcome = 'running';
  const tag = runTag('replace', workflowInfo().runId);
  let snap;
  try {
    snap = await tracker.run('snapshot', async () => (await long.takeSnapshot({ ...base, label: tag })).result, (s) => `${s.node}:${s.path} rev ${s.revision}`);
    await retireMember(tracker, gate, base, input.failed, tag, failed.reachable);
  } catch (e) {
    if (tracker.progress.steps.find((s) => s.id === `remove:${input.failed}`)?.status !== 'done') endAfterCompensation(tracker, e, 'nothing was changed', []);
    stopAtSafePoint(tracker, e, `${input.failed}'s member was removed; its node was not cleaned up`, [{ node: input.failed, what: 'etcd of the removed member may still be enabled, with its data dir', fix: `etcd-runbooks cleanup --node ${input.failed}` }]);
  }
  if (plan.addReplacement) {
    try {
      await addMember(tracker, base, replacement);
    } catch (e) {
      const leftovers = await undoAddedMembers(tracker, base, [replacement], tag);
      stopAtSafePoint(tracker, e, `${input.failed} was removed; adding ${replacement} was undone; the cluster has one member fewer but is healthy: fix ${replacement} and run again (or add-member --node ${replacement})`, leftovers);
    }
  }
  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv ${r.hash} equal at revision ${r.revision}`);
  await finishWithKubeSync(tracker, base, kube);
  tracker.progress.outcome = 'completed';
  return {
    removed: input.failed, ...(plan.addReplacement ? { added: replacement } : {}), snapshot: `${snap.node}:${snap.path}`,
    voters: verified.state.members.filter((m) => !m.isLearner).length, approvals: tracker.progress.approvals,
  };
}
