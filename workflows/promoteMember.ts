import { patched } from '@temporalio/workflow';
import { PromoteInputSchema, type PromoteInput } from '../domain/inputs';
import { changes, long } from './proxies';
import { waitCaughtUp } from './memberSteps';
import { NEVER_WORSE, startRunbook } from './runbook';
import { promoteMemberV1 } from './v1/promoteMember';

/** Promotes `node`'s learner once it has caught up, and waits until every member is healthy. Source: reference 000 §5. */
export async function promoteMember(raw: PromoteInput): Promise<{ memberId: string; alreadyVoter: boolean }> {
  if (!patched(NEVER_WORSE)) return promoteMemberV1(raw);
  const { input, base, tracker } = startRunbook('promoteMember', PromoteInputSchema, raw);
  const n = { ...base, node: input.node };
  tracker.setSteps([
    { id: `wait-caught-up:${input.node}`, title: `${input.node}: wait until the learner has caught up`, node: input.node, status: 'pending' },
    { id: `promote:${input.node}`, title: `${input.node}: promote the learner`, node: input.node, status: 'pending' },
    { id: `wait-healthy:${input.node}`, title: `${input.node}: wait until every member is healthy`, node: input.node, status: 'pending' },
  ]);
  tracker.progress.outcome = 'running';
  await tracker.run(`wait-caught-up:${input.node}`, () => waitCaughtUp(tracker, base, input.node), (r) => `applied ${r.appliedIndex}`);
  const r = await tracker.run(`promote:${input.node}`, async () => (await changes.promoteLearner(n)).result, (x) => (x.alreadyVoter ? 'already a voter' : 'promoted'));
  await tracker.run(`wait-healthy:${input.node}`, async () => (await long.waitClusterHealthy(n)).result, (x) => `${x.voters} voters healthy`);
  tracker.progress.outcome = 'completed';
  return r;
}
