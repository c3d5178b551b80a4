import { patched, workflowInfo } from '@temporalio/workflow';
import { checkRemoval } from '../domain/removal';
import { RemoveMemberInputSchema, type RemoveMemberInput } from '../domain/inputs';
import { retireMemberSteps } from '../domain/memberSteps';
import type { ApprovalRecord } from '../domain/progress';
import { long, reads } from './proxies';
import { retireMember } from './memberSteps';
import { refuse, runTag, startRunbook } from './runbook';
import { finishWithKubeSync, kubePlanSteps, planKubeSync } from './kubeSync';

export interface RemoveMemberResult { removed: boolean; snapshot?: string; approvals: ApprovalRecord[] }

/**
 * Removes `node`'s member. Refused at pre-flight if it is the leader (move leadership first) or if
 * the remaining voters would not hold quorum. Verified snapshot first; removal and moving the data
 * dir aside each wait for approval. If the node does not answer, its etcd is left as it is (it
 * cannot rejoin: a removed member's ID is refused by the cluster). Source: reference 000 §7.
 */
export async function removeMember(raw: RemoveMemberInput): Promise<RemoveMemberResult> {
  const { input, base, tracker, gate } = startRunbook('removeMember', RemoveMemberInputSchema, raw);
  const state = (await reads.inspectCluster(base)).result;
  const [node] = (await reads.inspectNodes({ ...base, nodes: [input.node] })).result;
  const check = checkRemoval(state.members, node.spec.peerURL);
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight checks (quorum after removal, not the leader)', status: 'done' }]);
  const kube = check.member ? await planKubeSync(base, { requireReady: true }) : undefined;
  const problems = [...check.problems, ...(kube?.problems ?? [])];
  if (problems.length) refuse(tracker, problems);
  if (!check.member) {
    tracker.progress.outcome = 'completed';
    tracker.progress.message = `nothing to do: ${input.node} is not a member`;
    return { removed: false, approvals: [] };
  }
  tracker.setSteps([...tracker.progress.steps, { id: 'snapshot', title: 'snapshot on the leader, integrity verified', status: 'pending' }, ...retireMemberSteps(input.node), ...kubePlanSteps(kube)]);
  tracker.progress.outcome = 'running';
  const tag = runTag('remove', workflowInfo().runId);
  const snap = await tracker.run('snapshot', async () => (await long.takeSnapshot({ ...base, label: tag })).result, (s) => `${s.node}:${s.path} rev ${s.revision}`);
  await retireMember(tracker, gate, base, input.node, tag, node.reachable);
  // Added while runs were in flight: runs started before this change replay without the step.
  if (patched('remove-member-verifies')) {
    tracker.progress.steps.push({ id: 'verify', title: 'verify: remaining members healthy, equal hashkv', status: 'pending' });
    await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv equal at revision ${r.revision}`);
  }
  await finishWithKubeSync(tracker, base, kube);
  tracker.progress.outcome = 'completed';
  return { removed: true, snapshot: `${snap.node}:${snap.path}`, approvals: tracker.progress.approvals };
}
