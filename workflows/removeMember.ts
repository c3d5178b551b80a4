import { patched, workflowInfo } from '@temporalio/workflow';
import { checkRemoval } from '../domain/removal';
import { RemoveMemberInputSchema, type RemoveMemberInput } from '../domain/inputs';
import type { ApprovalRecord } from '../domain/progress';
import type { SnapshotInfo } from '../activities';
import { reads } from './proxies';
import { retireMemberPhases } from './memberSteps';
import { snapshotPhase, verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { KUBE_SAFE_POINT, kubePhases, planKubeSync } from './kubeSync';
import { foreignProblems } from '../domain/oneCluster';

export interface RemoveMemberResult { removed: boolean; snapshot?: string; approvals: ApprovalRecord[] }

/**
 * Removes `node`'s member. Refused at pre-flight if it is the leader (move leadership first), if
 * the remaining voters would not hold quorum, or if it takes 2 voting members to 1 (unless
 * allowTwoToOne; reference 000 §8.1). Verified snapshot first; removal and moving the data
 * dir aside each wait for approval. If the node does not answer, its etcd is left as it is (it
 * cannot rejoin: a removed member's ID is refused by the cluster). Point of no return: the
 * removal. Source: reference 000 §7.
 */
export async function removeMember(raw: RemoveMemberInput): Promise<RemoveMemberResult | DryRunResult> {
  const { input, base, tracker, gate } = startRunbook('removeMember', RemoveMemberInputSchema, raw);
  const state = (await reads.inspectCluster(base)).result;
  const [node] = (await reads.inspectNodes({ ...base, nodes: [input.node] })).result;
  // Runs started before 0.3.0 removed from 2 to 1 without the flag: they keep doing so on replay.
  const check = checkRemoval(state.members, node.spec.peerURL, false, patched('remove-two-to-one') ? input.allowTwoToOne : true);
  const kube = check.member ? await planKubeSync(base, { requireReady: true }) : undefined;
  const tag = runTag('remove', workflowInfo().runId);
  let snap: SnapshotInfo | undefined;
  const phases: Phase[] = check.member ? [
    snapshotPhase(base, tag, (s) => { snap = s; }),
    ...retireMemberPhases(base, input.node, tag, node.reachable, `${input.node}'s member was removed; its node was not cleaned up`, true),
    verifyPhase(base, 'remaining members healthy, equal hashkv', () => undefined),
    ...kubePhases(tracker, base, kube, KUBE_SAFE_POINT),
  ] : [];
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight checks (quorum after removal, not the leader)', status: 'done' }, ...planOf(phases)]);
  const problems = [...foreignProblems(state.foreign, input.node), ...check.problems, ...(kube?.problems ?? [])];
  if (problems.length) refuse(tracker, problems);
  if (input.dryRun) return planOnly(tracker, phases, { voters: state.members.filter((m) => !m.isLearner).length, serving: state.members.filter((m) => !m.isLearner && m.healthy).length });
  if (!check.member) {
    tracker.progress.outcome = 'completed';
    tracker.progress.message = `nothing to do: ${input.node} is not a member`;
    return { removed: false, approvals: [] };
  }
  tracker.progress.outcome = 'running';
  await runPhases(tracker, gate, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  return { removed: true, snapshot: `${snap!.node}:${snap!.path}`, approvals: tracker.progress.approvals };
}
