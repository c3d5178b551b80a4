import type { ClusterState } from '../activities';
import type { Actor } from '../domain/identity';
import type { ChatThread, Operation } from '../service/operation';
import type { RunService } from '../service/runs';

/** What a chat bridge does as a run moves. Each call may fail (chat unreachable); the follower logs and goes on. */
export interface RunSink {
  /** The run changed: edit its message in place. */
  update(op: Operation): Promise<void>;
  /** A step waits for approval (called once per waiting step): post the approve/reject prompt. */
  waiting(op: Operation): Promise<void>;
  /** The run ended: post how, with the member table after it. */
  done(op: Operation, state?: ClusterState): Promise<void>;
}

/**
 * Follows runs for a chat bridge: reads each run through the service every `intervalMs` and calls
 * its sink when it changes. The thread a run posts to is in its memo, so a bridge that restarts
 * resumes every running run of its kind (resume()).
 */
export class RunFollower {
  private readonly following = new Map<string, Promise<void>>();
  private stopped = false;

  /** `reader`: the bridge's own identity (viewer) for reads. */
  constructor(private readonly service: RunService, private readonly reader: Actor, private readonly intervalMs = 1000, private readonly log: (m: string) => void = console.error) {}

  /** Starts following `runId` of `cluster` (no-op when already followed). */
  follow(cluster: string, runId: string, sink: RunSink): void {
    if (this.following.has(runId) || this.stopped) return;
    this.following.set(runId, this.loop(cluster, runId, sink).finally(() => this.following.delete(runId)));
  }

  /** Follows again every running run whose chat thread is of `kind`; returns how many. */
  async resume(kind: ChatThread['kind'], sinkFor: (op: Operation) => RunSink): Promise<number> {
    let n = 0;
    for (const r of await this.service.list(this.reader, undefined, 200)) {
      if (r.state !== 'running' || !r.cluster) continue;
      const op = await this.service.get(this.reader, r.cluster, r.runId);
      if (op.chat?.kind !== kind) continue;
      this.follow(r.cluster, r.runId, sinkFor(op));
      n++;
    }
    return n;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.following.values()]);
  }

  private async loop(cluster: string, runId: string, sink: RunSink): Promise<void> {
    let last = '';
    let asked = '';
    while (!this.stopped) {
      try {
        const op = await this.service.get(this.reader, cluster, runId);
        const text = JSON.stringify([op.run.state, op.progress?.outcome, op.progress?.steps.map((s) => [s.status, s.detail])]);
        if (text !== last) { await sink.update(op); last = text; }
        const waiting = op.progress?.pendingApproval?.step;
        if (waiting && waiting !== asked && !op.done) { await sink.waiting(op); asked = waiting; }
        if (op.done) {
          const state = await this.service.status(this.reader, cluster).catch(() => undefined);
          await sink.done(op, state);
          return;
        }
      } catch (e) {
        this.log(`chat: following run ${runId}: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }
}
