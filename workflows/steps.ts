import { ApplicationFailure } from '@temporalio/workflow';
import type { PlanStep, RunbookProgress } from '../domain/progress';

/**
 * Tracks a runbook's progress for the `progress` query and runs each step with its status
 * kept up to date (pending -> running -> done/failed). Deterministic: uses only workflow time.
 */
export class ProgressTracker {
  constructor(public readonly progress: RunbookProgress) {}

  setSteps(steps: PlanStep[]): void {
    this.progress.steps = steps;
  }

  step(id: string): PlanStep {
    const s = this.progress.steps.find((x) => x.id === id);
    if (!s) throw ApplicationFailure.nonRetryable(`internal: unknown step ${id}`, 'InvariantViolated');
    return s;
  }

  /** Marks a step skipped with the reason. */
  skip(id: string, reason: string): void {
    const s = this.step(id);
    s.status = 'skipped';
    s.detail = reason;
  }

  /** Runs `fn` as step `id`; `describe` turns its result into the step's detail line. */
  async run<T>(id: string, fn: () => Promise<T>, describe?: (r: T) => string): Promise<T> {
    const s = this.step(id);
    s.status = 'running';
    s.startedAt = new Date().toISOString();
    try {
      const r = await fn();
      s.status = 'done';
      if (describe) s.detail = describe(r);
      return r;
    } catch (e) {
      s.status = 'failed';
      s.detail = errorMessage(e);
      throw e;
    } finally {
      s.finishedAt = new Date().toISOString();
    }
  }
}

/** The innermost message of a Temporal failure chain (ActivityFailure -> ApplicationFailure). */
export function errorMessage(e: unknown): string {
  let cur = e as { message?: unknown; cause?: unknown } | undefined;
  let msg = typeof cur?.message === 'string' ? cur.message : String(e);
  while (cur?.cause) {
    cur = cur.cause as typeof cur;
    if (typeof cur?.message === 'string' && cur.message) msg = cur.message;
  }
  return msg;
}
