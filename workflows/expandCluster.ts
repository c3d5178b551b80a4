import { patched, workflowInfo } from '@temporalio/workflow';
import { preflightReads } from './preflight';
import { long, reads } from './proxies';
import { describeLiveness } from '../domain/liveness';
import { addMember, undoAddedMembers } from './memberSteps';
import { expandSteps, planExpand, type ExpandPlan } from '../domain/expandPlan';
import { describeVersions } from '../domain/etcdVersion';
import { ExpandInputSchema, type ExpandInput } from '../domain/inputs';
import type { MemberSpec } from '../domain/members';
import { endAfterCompensation } from './compensation';
import { NEVER_WORSE, refuse, runTag, startRunbook } from './runbook';
import { expandClusterV1 } from './v1/expandCluster';
import { finishWithKubeSync, kubePlanSteps, planKubeSync } from './kubeSync';

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
 * point of no return: a cancel at any step compensates. A re-run on a cluster that already has the
 * members changes nothing.
 */
export async function expandCluster(rawInput: ExpandInput): Promise<ExpandResult> {
  if (!patched(NEVER_WORSE)) return expandClusterV1(rawInput);
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
  const kube = await planKubeSync(base, { requireReady: true });
  tracker.setSteps([...expandSteps(plan), ...(plan.toAdd.length ? kubePlanSteps(kube) : [])]);
  const problems = [...plan.problems, ...(plan.toAdd.length ? kube?.problems ?? [] : [])];
  if (problems.length) refuse(tracker, problems);
  const voters = state.members.filter((m) => !m.isLearner).length;
  if (plan.toAdd.length === 0) {
    tracker.progress.outcome = 'completed';
    tracker.progress.message = `nothing to do: ${plan.alreadyVoters.join(', ')} already voting members`;
    return { outcome: 'nothing-to-do', added: [], alreadyVoters: plan.alreadyVoters, voters };
  }

  tracker.progress.outcome = 'running';
  const label = runTag('expand', workflowInfo().runId);
  const added: MemberSpec[] = [];
  let snap;
  try {
    snap = await tracker.run('snapshot', async () => (await long.takeSnapshot({ ...base, label })).result,
      (s) => `${s.node}:${s.path} rev ${s.revision}, ${s.totalKeys} keys, ${s.sizeBytes} bytes, sha256 ok`);
    for (const spec of plan.toAdd) {
      added.push(spec);
      await addMember(tracker, base, spec.node);
    }
  } catch (e) {
    tracker.progress.message = 'removing the members this run added';
    const leftovers = await undoAddedMembers(tracker, base, added.map((s) => s.node), label);
    endAfterCompensation(tracker, e, added.length ? `the members this run added (${added.map((s) => s.node).join(', ')}) were taken out again` : 'nothing had been changed', leftovers);
  }

  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result,
    (r) => `${r.state.members.length} members, hashkv ${r.hash} equal at revision ${r.revision}`);
  await finishWithKubeSync(tracker, base, kube);
  tracker.progress.outcome = 'completed';
  tracker.progress.message = `added ${added.map((s) => s.node).join(', ')}`;
  return {
    outcome: 'completed',
    added: added.map((s) => s.node),
    alreadyVoters: plan.alreadyVoters,
    snapshot: { node: snap.node, path: snap.path, revision: snap.revision, sha256: snap.sha256 },
    voters: verified.state.members.filter((m) => !m.isLearner).length,
    revision: verified.revision,
  };
}
