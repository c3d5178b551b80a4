// Frozen: the promoteMember of 0.1, kept so runs started before the 0.2 safety changes replay and finish
// unchanged (routed here by patched('never-worse') in ../promoteMember.ts). Do not edit; remove with the patch.
import { PromoteInputSchema, type PromoteInput } from '../../domain/inputs';
import { changes, long } from '../proxies';
import { startRunbook } from '../runbook';

/** Promotes `node`'s learner and waits until every member is healthy. Source: reference 000 §5. */
export async function promoteMemberV1(raw: PromoteInput): Promise<{ memberId: string; alreadyVoter: boolean }> {
  const { input, base, tracker } = startRunbook('promoteMember', PromoteInputSchema, raw);
  const n = { ...base, node: input.node };
  tracker.setSteps([
    { id: `wait-caught-up:${input.node}`, title: `${input.node}: wait until the learner has caught up`, node: input.node, status: 'pending' },
    { id: `promote:${input.node}`, title: `${input.node}: promote the learner`, node: input.node, status: 'pending' },
    { id: `wait-healthy:${input.node}`, title: `${input.node}: wait until every member is healthy`, node: input.node, status: 'pending' },
  ]);
  tracker.progress.outcome = 'running';
  await tracker.run(`wait-caught-up:${input.node}`, async () => (await long.waitLearnerCaughtUp(n)).result, (r) => `applied ${r.appliedIndex}`);
  const r = await tracker.run(`promote:${input.node}`, async () => (await changes.promoteLearner(n)).result, (x) => (x.alreadyVoter ? 'already a voter' : 'promoted'));
  await tracker.run(`wait-healthy:${input.node}`, async () => (await long.waitClusterHealthy(n)).result, (x) => `${x.voters} voters healthy`);
  tracker.progress.outcome = 'completed';
  return r;
}
