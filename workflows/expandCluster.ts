import { workflowInfo } from '@temporalio/workflow';
import { preflightReads } from './preflight';
import { describeLiveness } from '../domain/liveness';
import { planExpand, type ExpandPlan } from '../domain/expandPlan';
import { describeVersions } from '../domain/etcdVersion';
import { ExpandInputSchema, type ExpandInput } from '../domain/inputs';
import type { SnapshotInfo } from '../activities';
import { addMemberPhases } from './memberSteps';
import { snapshotPhase, verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { KUBE_SAFE_POINT, kubePhases, planKubeSync } from './kubeSync';
import { foreignProblems } from '../domain/oneCluster';

export interface ExpandResult {
  outcome: 'completed' | 'nothing-to-do';
  added: string[];
  alreadyVoters: string[];
  snapshot?: { node: string; path: string; revision: number; sha256: string };
  voters: number;
  revision?: number;
}

/**
 * Expands an etcd cluster by adding members one at a time as learners, then promoting them.
 * Source: reference 000 §8.1 (snapshot, add twice), §5 (learner, promote); etcd docs "Runtime
 * reconfiguration". Pre-flight refuses unhealthy members, unreachable nodes, non-empty data dirs,
 * a data dir without room for the database, and an even final size (unless allowEvenSize).
 * If a step fails, or the run is cancelled, after a member was added, every member this run added
 * is removed again (cluster side first), then its etcd stopped and its data dir moved aside, so the
 * cluster ends as it started; a node that does not answer is recorded as a leftover. There is no
 * point of no return before the final verification. A re-run on a cluster that already has the
 * members changes nothing.
 */
export async function expandCluster(rawInput: ExpandInput): Promise<ExpandResult | DryRunResult> {
  const { input, base, tracker } = startRunbook('expandCluster', ExpandInputSchema, rawInput);

  const { state, liveness, readiness } = await preflightReads(base, input.add);
  tracker.progress.liveness = liveness.map(describeLiveness);
  const plan: ExpandPlan = planExpand({
    members: state.members,
    healthyMembers: state.members.filter((m) => m.healthy).map((m) => m.name),
    candidates: readiness,
    allowEvenSize: input.allowEvenSize,
    dbSizeBytes: Math.max(0, ...state.members.map((m) => m.status?.dbSize ?? 0)),
    ...(state.clusterVersion ? { clusterVersion: state.clusterVersion.version } : {}),
  });
  tracker.progress.liveness?.push(describeVersions(state.clusterVersion, readiness));
  const kube = plan.toAdd.length ? await planKubeSync(base, { requireReady: true }) : undefined;
  const tag = runTag('expand', workflowInfo().runId);
  let snap: SnapshotInfo | undefined;
  let verified = { voters: 0, revision: 0 };
  const phases: Phase[] = plan.toAdd.length ? [
    snapshotPhase(base, tag, (s) => { snap = s; }),
    ...plan.toAdd.flatMap((spec) => addMemberPhases(tracker, base, spec.node, tag)),
    verifyPhase(base, 'all members voting, healthy, equal hashkv', (r) => { verified = { voters: r.members.filter((m) => !m.isLearner).length, revision: r.revision }; }),
    ...kubePhases(tracker, base, kube, KUBE_SAFE_POINT),
  ] : [];
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight checks (members healthy, nodes reachable, data dirs empty)', status: 'done' }, ...planOf(phases)]);
  const problems = [...foreignProblems(state.foreign), ...plan.problems, ...(kube?.problems ?? [])];
  if (problems.length) refuse(tracker, problems);
  const members = { voters: state.members.filter((m) => !m.isLearner).length, serving: state.members.filter((m) => !m.isLearner && m.healthy).length };
  if (input.dryRun) return planOnly(tracker, phases, members);
  if (plan.toAdd.length === 0) {
    tracker.progress.outcome = 'completed';
    tracker.progress.message = `nothing to do: ${plan.alreadyVoters.join(', ')} already voting members`;
    return { outcome: 'nothing-to-do', added: [], alreadyVoters: plan.alreadyVoters, voters: state.members.filter((m) => !m.isLearner).length };
  }

  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, (nodes) => `the members this run added (${nodes.join(', ')}) were taken out again`);
  const added = plan.toAdd.map((s) => s.node);
  tracker.progress.outcome = 'completed';
  tracker.progress.message = `added ${added.join(', ')}`;
  return {
    outcome: 'completed', added, alreadyVoters: plan.alreadyVoters,
    ...(snap ? { snapshot: { node: snap.node, path: snap.path, revision: snap.revision, sha256: snap.sha256 } } : {}),
    voters: verified.voters, revision: verified.revision,
  };
}
