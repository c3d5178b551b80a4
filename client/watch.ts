import type { WorkflowHandle } from '@temporalio/client';
import type { PendingApproval, RunbookProgress } from '../domain/progress';
import { progressQuery } from '../workflows/runbook';
import { defaultPayloadConverter } from '@temporalio/common';
import { formatBytes, planTable, stepLine } from './render';

/** A running copy's bytes, rate and ETA from its heartbeat details (see ClusterOps.pipe), as one line. */
async function transferProgress(handle: WorkflowHandle): Promise<string | undefined> {
  try {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    for (const a of pending) {
      const p = a.heartbeatDetails?.payloads?.[0];
      const d = p ? defaultPayloadConverter.fromPayload<{ bytes?: number; totalBytes?: number; rateBytesPerSec?: number; etaSeconds?: number }>(p as never) : undefined;
      if (d?.bytes !== undefined && d.totalBytes) {
        return `  ${a.activityType?.name}: ${formatBytes(d.bytes)} of ${formatBytes(d.totalBytes)}, ${formatBytes(d.rateBytesPerSec ?? 0)}/s${d.etaSeconds !== undefined ? `, ETA ${d.etaSeconds} s` : ''}`;
      }
    }
  } catch {
    // closed or not describable: no progress line
  }
  return undefined;
}

/**
 * Prints a run's plan once it is known, then a line each time a step changes state, until the run
 * ends. Polls the `progress` query every `intervalMs`. When a step waits for approval, calls
 * `onApproval` once for it. Resolves with the last progress seen.
 */
export async function watchProgress(
  handle: WorkflowHandle, out: (line: string) => void, onApproval?: (pending: PendingApproval) => Promise<void>, intervalMs = 300,
): Promise<RunbookProgress | undefined> {
  let askedFor: string | undefined;
  const seen = new Map<string, string>();
  let last: RunbookProgress | undefined;
  let planShown = false;
  let finished = false;
  let lastMoving: string | undefined;
  const result = handle.result().finally(() => { finished = true; });
  result.catch(() => undefined);
  for (;;) {
    const wasFinished = finished;
    try {
      last = await handle.query(progressQuery);
    } catch {
      // not yet answerable (first task not run) or already closed: keep the last view
    }
    if (last && last.steps.length && !planShown) {
      out(`plan for ${last.runbook} on cluster ${last.cluster}:\n${planTable(last)}`);
      if (last.liveness?.length) out(`members (SSH and etcd judged apart):\n  ${last.liveness.join('\n  ')}`);
      planShown = true;
    }
    const moving = await transferProgress(handle);
    if (moving && moving !== lastMoving) out(moving);
    lastMoving = moving;
    for (const s of last?.steps ?? []) {
      const key = `${s.status}|${s.detail ?? ''}`;
      if (seen.get(s.id) !== key && s.status !== 'pending') {
        seen.set(s.id, key);
        if (!(s.id === 'preflight' && s.status === 'done')) out(stepLine(s));
      }
    }
    const pending = last?.pendingApproval;
    if (pending && pending.step !== askedFor) {
      askedFor = pending.step;
      if (onApproval) await onApproval(pending);
    }
    if (wasFinished) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
