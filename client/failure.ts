import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Leftover } from '../domain/progress';
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
  const cause = cancelled ? 'cancelled on request' : errorMessage(e).split('\n')[0];
  const detail = app?.details?.[0] as { leftovers?: Leftover[]; end?: 'undone' | 'safe point' } | undefined;
  const left = detail?.leftovers ?? [];
  const kind = app?.type === 'PreflightFailed' ? 'refused'
    : detail?.end === 'safe point' ? (app?.type === 'RunCancelled' ? 'cancelled and stopped at a safe point' : 'stopped at a safe point')
      : detail?.end === 'undone' ? (app?.type === 'RunCancelled' ? 'cancelled' : 'failed and was undone') : 'failed';
  return [`${runbook} ${kind}: ${cause}`, ...left.map((l) => `  left on ${l.node}: ${l.what} -> ${l.fix}`)];
}

/** How the run ended, from its failure: refused at pre-flight, undone, stopped at a safe point, or failed. */
export function failureEnd(e: unknown): 'refused' | 'undone' | 'safe point' | 'failed' {
  const app = application(e);
  if (app?.type === 'PreflightFailed') return 'refused';
  const end = (app?.details?.[0] as { end?: 'undone' | 'safe point' } | undefined)?.end;
  return end ?? 'failed';
}
