import { CancelledFailure } from '@temporalio/common';
import type { CommandRecord } from './audit';

/** A command ran and exited non-zero. `stderr` is the command's complete error output. */
export class CommandFailedError extends Error {
  constructor(public readonly record: CommandRecord, public readonly stderr: string) {
    super(`${record.node}: \`${record.argv.slice(0, 6).join(' ')}${record.argv.length > 6 ? ' …' : ''}\` exited ${record.exitCode}: ${lastLines(stderr || record.stdout, 4)}`);
    this.name = 'CommandFailedError';
  }
}

/**
 * The cluster or a node is not in a state where the step may act, and retrying will not change
 * that (a conflicting member, a non-empty data dir, a missing TLS file). Never retried.
 */
export class PreconditionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreconditionError';
  }
}

/** A wait ran out of time (learner never caught up, member never became healthy). */
export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

export function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/**
 * Rethrows `e` when it is the activity's cancellation (ClusterOps.run throws CancelledFailure before
 * the next command of a cancelled activity). A catch that turns errors into a verdict ("not
 * reachable", "no node could list the members") calls this first, so a cancel stays a cancel and
 * the workflow takes its cancellation path instead of a failure.
 */
export function rethrowCancellation(e: unknown): void {
  if (e instanceof CancelledFailure) throw e;
}
