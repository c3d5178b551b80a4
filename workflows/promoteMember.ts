import { PromoteInputSchema, type PromoteInput } from '../domain/inputs';
import { promotePhase, waitCaughtUpPhase, waitHealthyPhase } from './memberSteps';
import { planOf, runPhases } from './phases';
import { startRunbook } from './runbook';

/** Promotes `node`'s learner once it has caught up, and waits until every member is healthy. Source: reference 000 §5. */
export async function promoteMember(raw: PromoteInput): Promise<{ memberId: string; alreadyVoter: boolean }> {
  const { input, base, tracker } = startRunbook('promoteMember', PromoteInputSchema, raw);
  let result = { memberId: '', alreadyVoter: false };
  const phases = [waitCaughtUpPhase(tracker, base, input.node), promotePhase(base, input.node, (r) => { result = r; }), waitHealthyPhase(base, input.node)];
  tracker.setSteps(planOf(phases));
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  return result;
}
