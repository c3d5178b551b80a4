import type { Actor } from '../domain/identity';
import type { DrillFailure } from '../service/recoveryPoint';
import type { RunService } from '../service/runs';
import { PollLoop } from './poll';

/** The text of a failed restore drill's alert in chat. */
export function drillAlertText(f: DrillFailure): string {
  return `ALERT: restore drill of ${f.cluster} FAILED at ${f.closedAt}: ${f.message}\n`
    + `The recovery point did not move: \`status ${f.cluster}\` shows the newest backup that passed. Run ${f.workflowId} / ${f.runId}.`;
}

/**
 * Posts an alert to a chat room or channel for each restore drill that fails (scheduled or not),
 * reading the drill runs from Temporal every `intervalMs` (service.drillFailures). At start it
 * looks back `lookBackMs` (default 1 h), so a drill that failed while the bridge was down is still
 * posted; a restart within that hour may post an alert again. Chat errors are logged and the alert
 * is tried again at the next read.
 */
export class DrillAlerts {
  private readonly posted = new Set<string>();
  private since: Date;
  private readonly poll: PollLoop;

  constructor(private readonly service: RunService, private readonly reader: Actor, private readonly post: (text: string) => Promise<void>,
    o: { intervalMs?: number; lookBackMs?: number; log?: (m: string) => void } = {}) {
    this.since = new Date(Date.now() - (o.lookBackMs ?? 3600_000));
    this.poll = new PollLoop(() => this.readOnce(), o.intervalMs ?? 60_000, 'drill alerts', o.log);
  }

  start(): void {
    this.poll.start();
  }

  stop(): Promise<void> {
    return this.poll.stop();
  }

  private async readOnce(): Promise<void> {
    for (const f of await this.service.drillFailures(this.reader, this.since)) {
      if (this.posted.has(f.runId)) continue;
      await this.post(drillAlertText(f));
      this.posted.add(f.runId);
      if (f.closedAt > this.since.toISOString()) this.since = new Date(Date.parse(f.closedAt) - 1); // closeTime ties: the set skips repeats
    }
  }
}
