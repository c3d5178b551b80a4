import { memberTable } from '../render/tables';
import { recoveryPointLines } from '../service/recoveryPoint';
import type { Actor } from '../domain/identity';
import type { RunService } from '../service/runs';

/** The answer to `runs` or `status` (member table, recovery point and a failed drill's alert), as text for a chat message. */
export async function readCommand(service: RunService, actor: Actor, verb: 'runs' | 'status', cluster: string): Promise<string> {
  if (verb === 'runs') {
    const runs = await service.list(actor, cluster, 10);
    return runs.map((r) => `${r.startedAt} ${r.workflow} ${r.state} by ${r.requester ?? '?'}${r.waitingStep ? ` waiting: ${r.waitingStep}` : ''}`).join('\n') || 'no runs';
  }
  const [state, point] = await Promise.all([service.status(actor, cluster), service.recoveryPoint(actor, cluster)]);
  return `\`\`\`\n${memberTable(state)}\n\`\`\`\n${recoveryPointLines(point).join('\n')}`;
}
