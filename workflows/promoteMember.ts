import { PromoteInputSchema, type PromoteInput } from '../domain/inputs';
import { promotePhase, waitCaughtUpPhase, waitHealthyPhase } from './memberSteps';
import { planOf, planOnly, runPhases, type DryRunResult } from './phases';
import { reads } from './proxies';
import { votingMembers } from './clusterPhases';
import { startRunbook } from './runbook';

/** Promotes `node`'s learner once it has caught up, and waits until every member is healthy. Source: reference 000 §5. */
export async function promoteMember(raw: PromoteInput): Promise<{ memberId: string; alreadyVoter: boolean } | DryRunResult> {
  const { input, base, tracker } = startRunbook('promoteMember', PromoteInputSchema, raw);
  let result = { memberId: '', alreadyVoter: false };
  const phases = [waitCaughtUpPhase(tracker, base, input.node), promotePhase(base, input.node, (r) => { result = r; }), waitHealthyPhase(base, input.node)];
  tracker.setSteps(planOf(phases));
  if (input.dryRun) return planOnly(tracker, phases, votingMembers((await reads.inspectCluster(base)).result.members));
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  return result;
}
