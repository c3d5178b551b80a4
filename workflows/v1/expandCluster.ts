// Frozen: the expandCluster of 0.1, kept so runs started before the 0.2 safety changes replay and finish
// unchanged (routed here by patched('never-worse') in ../expandCluster.ts). Do not edit; remove with the patch.
import { workflowInfo } from '@temporalio/workflow';
import type { NodeReadiness } from '../../activities';
import { long, reads } from '../proxies';
import { addMember, undoAddedMember } from './memberSteps';
import { expandSteps, planExpand, type ExpandPlan } from '../../domain/expandPlan';
import { ExpandInputSchema, type ExpandInput } from '../../domain/inputs';
import type { MemberSpec } from '../../domain/members';
import { errorMessage } from '../steps';
import { refuse, startRunbook } from '../runbook';


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
 * reconfiguration". Pre-flight refuses unhealthy members, unreachable nodes, non-empty data dirs
 * and an even final size (unless allowEvenSize). If a step fails after a member was added, every
 * member this run added is removed again, its etcd stopped and its data dir moved aside, so the
 * cluster ends as it started; the run then fails with the original error.
 * Re-running on a cluster that already has the members changes nothing.
 */
export async function expandClusterV1(rawInput: ExpandInput): Promise<ExpandResult> {
  const { input, base, tracker } = startRunbook('expandCluster', ExpandInputSchema, rawInput);

  const state = (await reads.inspectCluster(base)).result;
  const readiness: NodeReadiness[] = (await reads.inspectNodes({ ...base, nodes: input.add })).result;
  const plan: ExpandPlan = planExpand({
    members: state.members,
    healthyMembers: state.members.filter((m) => m.healthy).map((m) => m.name),
    candidates: readiness,
    allowEvenSize: input.allowEvenSize,
  });
  tracker.setSteps(expandSteps(plan));
  if (plan.problems.length) refuse(tracker, plan.problems);
  const voters = state.members.filter((m) => !m.isLearner).length;
  if (plan.toAdd.length === 0) {
    tracker.progress.outcome = 'completed';
    tracker.progress.message = `nothing to do: ${plan.alreadyVoters.join(', ')} already voting members`;
    return { outcome: 'nothing-to-do', added: [], alreadyVoters: plan.alreadyVoters, voters };
  }

  tracker.progress.outcome = 'running';
  const label = `expand-${workflowInfo().runId.slice(0, 8)}`;
  const snap = await tracker.run('snapshot', async () => (await long.takeSnapshot({ ...base, label })).result,
    (s) => `${s.node}:${s.path} rev ${s.revision}, ${s.totalKeys} keys, ${s.sizeBytes} bytes, sha256 ok`);

  const added: MemberSpec[] = [];
  try {
    for (const spec of plan.toAdd) {
      added.push(spec);
      await addMember(tracker, base, spec.node);
    }
  } catch (e) {
    tracker.progress.message = `failed: ${errorMessage(e)}; removing the members this run added`;
    for (const spec of [...added].reverse()) await undoAddedMember(tracker, base, spec.node, label);
    tracker.progress.outcome = 'compensated';
    tracker.progress.message = `failed: ${errorMessage(e)}; the members this run added were removed again`;
    throw e;
  }

  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result,
    (r) => `${r.state.members.length} members, hashkv ${r.hash} equal at revision ${r.revision}`);
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
