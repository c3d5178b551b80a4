import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { CommandRecord } from '../activities/audit';
import type { ApprovalRecord } from '../domain/progress';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** One row of a run's audit trail: a command run by a step, or an approval. */
export interface AuditRow {
  /** Activity type (the step), or `approval`. */
  step: string;
  /** Activity input's node, or the command's node. */
  node: string;
  /** Shell-free rendering of the argv, or the approval's question. */
  what: string;
  /** The command's argv (absent for approvals and step failures). */
  argv?: string[];
  exitCode: number | null;
  startedAt: string;
  durationMs: number;
  /** stdout/stderr excerpt, the error, or who approved. */
  output: string;
  outcome: 'ok' | 'failed' | 'approved';
}


function decode<T>(p: Payloads, i = 0): T | undefined {
  const payload = p?.payloads?.[i];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload as never) : undefined;
}

function commandRows(step: string, commands: CommandRecord[], failedWith?: string): AuditRow[] {
  const rows = commands.map((c): AuditRow => ({
    step, node: c.node, what: c.argv.join(' '), argv: c.argv, exitCode: c.exitCode, startedAt: c.startedAt, durationMs: c.durationMs,
    output: (c.error ? `${c.error}: ` : '') + (c.stderr.trim() || c.stdout.trim()).slice(0, 600),
    outcome: c.exitCode === 0 ? 'ok' : 'failed',
  }));
  if (failedWith) rows.push({ step, node: commands.at(-1)?.node ?? '-', what: '(step failed)', exitCode: null, startedAt: commands.at(-1)?.startedAt ?? '', durationMs: 0, output: failedWith, outcome: 'failed' });
  return rows;
}

/**
 * The audit trail of a run from its history alone: for each activity, the commands it ran (from its
 * Step result, or from a failure's details), and each approval (update accepted, or `approvals`
 * recorded up front in the run's result). Retries that failed before the last attempt are not in
 * a Temporal history; the last attempt is.
 */
export function auditTrail(events: HistoryEvent[]): AuditRow[] {
  const scheduled = new Map<string, { type: string; node: string }>();
  const rows: AuditRow[] = [];
  const seenApprovals = new Set<string>();
  for (const e of events) {
    const id = String(e.eventId ?? '');
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const input = decode<{ node?: string }>(s.input);
      scheduled.set(id, { type: s.activityType?.name ?? '?', node: input?.node ?? '-' });
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const act = scheduled.get(String(done.scheduledEventId ?? ''));
      const step = decode<{ commands?: CommandRecord[] }>(done.result);
      rows.push(...commandRows(act?.type ?? '?', step?.commands ?? []));
      continue;
    }
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) {
      const act = scheduled.get(String(failed.scheduledEventId ?? ''));
      let f = failed.failure;
      while (f?.cause && !f.applicationFailureInfo) f = f.cause;
      const commands = decode<CommandRecord[]>(f?.applicationFailureInfo?.details) ?? [];
      rows.push(...commandRows(act?.type ?? '?', commands, f?.message ?? 'failed'));
      continue;
    }
    const updated = e.workflowExecutionUpdateCompletedEventAttributes;
    if (updated?.outcome?.success) {
      const a = decode<ApprovalRecord>(updated.outcome.success);
      if (a?.by) {
        seenApprovals.add(a.step);
        rows.push(approvalRow(a));
      }
      continue;
    }
    const completed = e.workflowExecutionCompletedEventAttributes;
    if (completed) {
      for (const a of decode<{ approvals?: ApprovalRecord[] }>(completed.result)?.approvals ?? []) if (!seenApprovals.has(a.step)) rows.push(approvalRow(a));
    }
  }
  return rows;
}

function approvalRow(a: ApprovalRecord): AuditRow {
  return { step: 'approval', node: a.step.split(':')[1] ?? '-', what: `${a.step}: ${a.question}`, exitCode: null, startedAt: a.at, durationMs: 0, output: `approved by ${a.by}${a.upFront ? ' (up front, --yes)' : ''}`, outcome: 'approved' };
}
