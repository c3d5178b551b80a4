import { MoveLeaderInputSchema, type MoveLeaderInput } from '../domain/inputs';
import { changes, reads } from './proxies';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { startRunbook } from './runbook';
import { votingMembers } from './clusterPhases';

/** Makes `to`'s member the leader (`move-leader`, sent to the current leader). Source: reference 000 §7. */
export async function moveLeader(raw: MoveLeaderInput): Promise<{ leader: string; moved: boolean } | DryRunResult> {
  const { input, base, tracker } = startRunbook('moveLeader', MoveLeaderInputSchema, raw);
  let result = { leader: '', moved: false };
  const phases: Phase[] = [{
    id: `move-leader:${input.to}`, title: `make ${input.to} the leader`, node: input.to, source: 'reference 000 §7; etcdctl move-leader',
    run: async () => {
      result = (await changes.moveLeaderTo({ ...base, node: input.to })).result;
      return result.moved ? `leader is now ${result.leader}` : 'already the leader';
    },
  }];
  tracker.setSteps(planOf(phases));
  if (input.dryRun) return planOnly(tracker, phases, votingMembers((await reads.inspectCluster(base)).result.members));
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  return result;
}
