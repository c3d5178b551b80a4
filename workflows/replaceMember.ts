import { workflowInfo } from '@temporalio/workflow';
import { preflightReads } from './preflight';
import { ReplaceMemberInputSchema, type ReplaceMemberInput } from '../domain/inputs';
import type { ApprovalRecord } from '../domain/progress';
import { planReplace } from '../domain/replacePlans';
import { describeVersions } from '../domain/etcdVersion';
import { describeLiveness } from '../domain/liveness';
import type { SnapshotInfo } from '../activities';
import { addMemberPhases, retireMemberPhases } from './memberSteps';
import { snapshotPhase, verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { KUBE_SAFE_POINT, kubePhases, planKubeSync } from './kubeSync';
import { foreignProblems } from '../domain/oneCluster';

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
export async function replaceMember(raw: ReplaceMemberInput): Promise<ReplaceMemberResult | DryRunResult> {
  const { input, base, tracker, gate } = startRunbook('replaceMember', ReplaceMemberInputSchema, raw);
  const replacement = input.replacement ?? input.failed;
  const nodes = [...new Set([input.failed, replacement])];
  const { state, liveness, readiness } = await preflightReads(base, nodes);
  tracker.progress.liveness = liveness.map(describeLiveness);
  const failed = readiness[0];
  const rep = readiness[nodes.indexOf(replacement)];
  const plan = planReplace(state.members, failed, rep, Math.max(0, ...state.members.map((m) => m.status?.dbSize ?? 0)), state.clusterVersion?.version);
  tracker.progress.liveness?.push(describeVersions(state.clusterVersion, [rep]));
  // The failed node may be a control-plane node too (BCM's head node): its apiserver is not required.
  const kube = await planKubeSync(base, { requireReady: true, except: [input.failed] });
  const tag = runTag('replace', workflowInfo().runId);
  let snap: SnapshotInfo | undefined;
  let voters = 0;
  const adding = plan.addReplacement ? addMemberPhases(tracker, base, replacement, tag) : [];
  if (adding[0]) adding[0].safePoint = () => ({ where: `${input.failed} was removed; adding ${replacement} was undone; the cluster has one member fewer but is healthy: fix ${replacement} and run again (or add-member --node ${replacement})` });
  const phases: Phase[] = [
    snapshotPhase(base, tag, (s) => { snap = s; }),
    ...retireMemberPhases(base, input.failed, tag, failed.reachable, `${input.failed}'s member was removed; its node was not cleaned up`, state.members.some((m) => m.name === input.failed && m.healthy)),
    ...adding,
    verifyPhase(base, 'all members voting, healthy, equal hashkv', (r) => { voters = r.members.filter((m) => !m.isLearner).length; }),
    ...kubePhases(tracker, base, kube, KUBE_SAFE_POINT),
  ];
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight checks (quorum without the failed member, replacement ready)', status: 'done' }, ...planOf(phases)]);
  const problems = [...foreignProblems(state.foreign), ...plan.problems, ...(kube?.problems ?? [])];
  if (problems.length) refuse(tracker, problems);
  if (input.dryRun) return planOnly(tracker, phases, { voters: state.members.filter((m) => !m.isLearner).length, serving: state.members.filter((m) => !m.isLearner && m.healthy).length });
  tracker.progress.outcome = 'running';
  await runPhases(tracker, gate, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  return {
    removed: input.failed, ...(plan.addReplacement ? { added: replacement } : {}), snapshot: `${snap!.node}:${snap!.path}`,
    voters, approvals: tracker.progress.approvals,
  };
}
