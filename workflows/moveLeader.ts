import { MoveLeaderInputSchema, type MoveLeaderInput } from '../domain/inputs';
import { changes } from './proxies';
import { startRunbook } from './runbook';

/** Makes `to`'s member the leader (`move-leader`, sent to the current leader). Source: reference 000 §7. */
export async function moveLeader(raw: MoveLeaderInput): Promise<{ leader: string; moved: boolean }> {
  const { input, base, tracker } = startRunbook('moveLeader', MoveLeaderInputSchema, raw);
  tracker.setSteps([{ id: `move-leader:${input.to}`, title: `make ${input.to} the leader`, node: input.to, status: 'pending' }]);
  tracker.progress.outcome = 'running';
  const r = await tracker.run(`move-leader:${input.to}`, async () => (await changes.moveLeaderTo({ ...base, node: input.to })).result,
    (x) => (x.moved ? `leader is now ${x.leader}` : 'already the leader'));
  tracker.progress.outcome = 'completed';
  return r;
}
