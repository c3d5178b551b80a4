import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Leftover } from '../domain/progress';
import type { Operation } from '../service/operation';
import { errorMessage } from '../workflows/steps';

/** The innermost ApplicationFailure of a Temporal failure chain, if any. */
function application(e: unknown): ApplicationFailure | undefined {
  let cur = e as { cause?: unknown } | undefined;
  let found: ApplicationFailure | undefined;
  while (cur) {
    if (cur instanceof ApplicationFailure) found = cur;
    cur = cur.cause as typeof cur;
  }
  return found;
}

/**
 * How a failed run reads for a person: one line with the cause (never "Workflow execution failed"
 * and never a script), then one line per leftover (node, what is left, the command that finishes it).
 */
export function describeFailure(runbook: string, e: unknown): string[] {
  const app = application(e);
  const chain = e as { cause?: unknown };
  const cancelled = chain?.cause instanceof CancelledFailure;
  const detail = app?.details?.[0] as { leftovers?: Leftover[]; end?: 'undone' | 'safe point' } | undefined;
  return endLines(runbook, app?.type ?? undefined, detail?.end, cancelled ? 'cancelled on request' : errorMessage(e).split('\n')[0], detail?.leftovers ?? []);
}

/** describeFailure for a run read as an operation (service/operation.ts): its error, and the leftovers its progress lists. */
export function describeOperationFailure(runbook: string, op: Operation): string[] {
  const err = op.error ?? { type: 'Error', message: `ended ${op.run.state}` };
  return endLines(runbook, err.type, err.end, err.type === 'Cancelled' ? 'cancelled on request' : err.message.split('\n')[0], op.progress?.leftovers ?? []);
}

function endLines(runbook: string, type: string | undefined, end: 'undone' | 'safe point' | undefined, cause: string, left: Leftover[]): string[] {
  const kind = type === 'PreflightFailed' ? 'refused'
    : end === 'safe point' ? (type === 'RunCancelled' ? 'cancelled and stopped at a safe point' : 'stopped at a safe point')
      : end === 'undone' ? (type === 'RunCancelled' ? 'cancelled' : 'failed and was undone')
        : type === 'RunCancelled' ? 'cancelled' : 'failed'; // cancelled before it changed anything
  return [`${runbook} ${kind}: ${cause}`, ...left.map((l) => `  left on ${l.node}: ${l.what} -> ${l.fix}`)];
}

/** How the run ended, from its failure: refused at pre-flight, undone, stopped at a safe point, or failed. */
export function failureEnd(e: unknown): 'refused' | 'undone' | 'safe point' | 'failed' {
  const app = application(e);
  if (app?.type === 'PreflightFailed') return 'refused';
  const end = (app?.details?.[0] as { end?: 'undone' | 'safe point' } | undefined)?.end;
  return end ?? 'failed';
}
