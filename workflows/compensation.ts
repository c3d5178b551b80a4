import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { Leftover } from '../domain/progress';
import { errorMessage, type ProgressTracker } from './steps';

/** One undo step: shown in the progress as `id`, run by `run`; `leftover` says what stays if it fails. */
export interface UndoStep {
  id: string;
  title: string;
  node?: string;
  /** Cluster-side steps (member remove) run before node-side ones (stop etcd, move data aside). */
  side?: 'cluster' | 'node';
  run: () => Promise<string>;
  leftover?: Omit<Leftover, 'node'>;
}

/**
 * Runs every undo step, in order, in a non-cancellable scope (a cancel of the run must not cancel
 * its own clean-up), and goes on after a step fails: each failure becomes a leftover with the
 * command that finishes it. Cluster-side steps belong first (member remove), node-side after
 * (stop etcd, move the data dir aside), so a node that does not answer cannot keep the cluster
 * from being put right. Returns the leftovers, also kept in the progress.
 */
export async function compensate(tracker: ProgressTracker, steps: UndoStep[]): Promise<Leftover[]> {
  const leftovers: Leftover[] = [];
  await CancellationScope.nonCancellable(async () => {
    for (const u of steps) {
      tracker.progress.steps.push({ id: u.id, title: u.title, ...(u.node ? { node: u.node } : {}), status: 'pending' });
      try {
        await tracker.run(u.id, u.run, (d) => d);
        tracker.step(u.id).status = 'compensated';
      } catch (e) {
        if (u.leftover && u.node) leftovers.push({ node: u.node, ...u.leftover, what: `${u.leftover.what} (undo failed: ${errorMessage(e).slice(0, 160)})` });
      }
    }
  });
  recordLeftovers(tracker, leftovers);
  return leftovers;
}

/** Adds leftovers to the run's progress (each once) and returns every leftover of the run. */
export function recordLeftovers(tracker: ProgressTracker, leftovers: readonly Leftover[]): Leftover[] {
  const known = tracker.progress.leftovers ?? [];
  tracker.progress.leftovers = [...known, ...leftovers.filter((l) => !known.includes(l))];
  return tracker.progress.leftovers;
}

/** How a run that ended early reads in the progress and the failure: the cause, then what is left where. */
export function safePointMessage(cause: string, done: string, leftovers: readonly Leftover[]): string {
  const left = leftovers.length ? `; left behind: ${leftovers.map((l) => `${l.node}: ${l.what} -> ${l.fix}`).join('; ')}` : '';
  return `${cause}; ${done}${left}`;
}

/**
 * Ends the run after compensation: a non-retryable ApplicationFailure whose message is the cause
 * and what was undone, with the leftovers as details (the CLI and the audit trail print them).
 * A cancel ends as type `RunCancelled`, anything else as `Compensated`.
 */
export function endAfterCompensation(tracker: ProgressTracker, e: unknown, done: string, leftovers: readonly Leftover[]): never {
  const cancelled = isCancellation(e);
  const cause = cancelled ? 'cancelled on request' : `failed: ${errorMessage(e)}`;
  const all = recordLeftovers(tracker, leftovers);
  tracker.progress.outcome = 'compensated';
  tracker.progress.message = safePointMessage(cause, done, all);
  throw ApplicationFailure.create({ message: tracker.progress.message, type: cancelled ? 'RunCancelled' : 'Compensated', nonRetryable: true, details: [{ leftovers: all, end: 'undone' }] });
}

/** Ends the run at a documented safe point that is not a compensation (past the point of no return). */
export function stopAtSafePoint(tracker: ProgressTracker, e: unknown, where: string, leftovers: readonly Leftover[]): never {
  const cause = isCancellation(e) ? 'cancelled on request' : `failed: ${errorMessage(e)}`;
  tracker.progress.outcome = 'stopped';
  const all = recordLeftovers(tracker, leftovers);
  tracker.progress.message = safePointMessage(cause, where, all);
  throw ApplicationFailure.create({ message: tracker.progress.message, type: isCancellation(e) ? 'RunCancelled' : 'StoppedAtSafePoint', nonRetryable: true, details: [{ leftovers: all, end: 'safe point' }] });
}
