import { workflowInfo } from '@temporalio/workflow';
import { preflightReads } from './preflight';
import { MigrateMemberInputSchema, type MigrateMemberInput } from '../domain/inputs';
import type { ApprovalRecord } from '../domain/progress';
import { planMigrate } from '../domain/replacePlans';
import { describeVersions } from '../domain/etcdVersion';
import { describeLiveness } from '../domain/liveness';
import type { SnapshotInfo } from '../activities';
import { addMemberPhases, retireMemberPhases } from './memberSteps';
import { snapshotPhase, verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { KUBE_SAFE_POINT, kubePhases, planKubeSync } from './kubeSync';
import { foreignProblems } from '../domain/oneCluster';

export interface MigrateMemberResult { from: string; to: string; snapshot: string; voters: number; approvals: ApprovalRecord[] }

/**
 * Moves a member to another node without ever lowering fault tolerance: verified snapshot, add the
 * target as a learner, start, catch up, promote; then move leadership off the source if it leads,
 * (approved) remove the source, stop its etcd and (approved) move its data dir aside.
 * Point of no return: the removal of the source. A failure or cancel before it takes the target
 * out again (the cluster is as it started); after it, the run stops with the source removed and
 * its node's clean-up recorded as a leftover. Source: reference 000 §8.3.
 */
export async function migrateMember(raw: MigrateMemberInput): Promise<MigrateMemberResult | DryRunResult> {
  const { input, base, tracker, gate } = startRunbook('migrateMember', MigrateMemberInputSchema, raw);
  const { state, liveness, readiness: [from, to] } = await preflightReads(base, [input.from, input.to]);
  tracker.progress.liveness = liveness.map(describeLiveness);
  const plan = planMigrate(state.members, from, to, Math.max(0, ...state.members.map((m) => m.status?.dbSize ?? 0)), state.clusterVersion?.version);
  tracker.progress.liveness?.push(describeVersions(state.clusterVersion, [to]));
  const kube = await planKubeSync(base, { requireReady: true });
  const tag = runTag('migrate', workflowInfo().runId);
  let snap: SnapshotInfo | undefined;
  let voters = 0;
  const phases: Phase[] = [
    snapshotPhase(base, tag, (s) => { snap = s; }),
    ...(plan.addTarget ? addMemberPhases(tracker, base, input.to, tag) : []),
    ...(plan.removeSource ? retireMemberPhases(base, input.from, tag, from.reachable, `${input.to} was added and ${input.from}'s member removed; ${input.from} was not cleaned up`, state.members.some((m) => m.name === input.from && m.healthy)) : []),
    verifyPhase(base, 'all members voting, healthy, equal hashkv', (r) => { voters = r.members.filter((m) => !m.isLearner).length; }),
    ...kubePhases(tracker, base, kube, KUBE_SAFE_POINT),
  ];
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight checks (every voter healthy, target ready)', status: 'done' }, ...planOf(phases)]);
  const problems = [...foreignProblems(state.foreign), ...plan.problems, ...(kube?.problems ?? [])];
  if (problems.length) refuse(tracker, problems);
  if (input.dryRun) return planOnly(tracker, phases, { voters: state.members.filter((m) => !m.isLearner).length, serving: state.members.filter((m) => !m.isLearner && m.healthy).length });
  tracker.progress.outcome = 'running';
  await runPhases(tracker, gate, phases, () => `${input.to} was taken out again; the cluster is as it started`);
  tracker.progress.outcome = 'completed';
  return { from: input.from, to: input.to, snapshot: `${snap!.node}:${snap!.path}`, voters, approvals: tracker.progress.approvals };
}
