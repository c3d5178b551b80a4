import type { temporal } from '@temporalio/proto';
import { auditEvents, type AuditEvent } from './record';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One row of a run's audit trail: a command run by a step, a step that failed, or a decision. */
export interface AuditRow {
  /** Activity type (the step), or `approval`. */
  step: string;
  /** Activity input's node, or the command's node. */
  node: string;
  /** Shell-free rendering of the argv, `(step failed)`, or the approval's step and question. */
  what: string;
  /** The command's argv (absent for approvals and step failures). */
  argv?: string[];
  exitCode: number | null;
  /** ISO-8601. */
  startedAt: string;
  durationMs: number;
  /** stdout/stderr excerpt, the error, or who approved. */
  output: string;
  outcome: 'ok' | 'failed' | 'approved';
}

/**
 * The rows `etcd-runbooks history` prints, from the events of an audit record (record.ts, the one
 * walker of a run's history): commands, failed steps and approvals, in time order.
 */
export function trailRows(events: readonly AuditEvent[]): AuditRow[] {
  const rows: AuditRow[] = [];
  for (const e of events) {
    if (e.type === 'command') {
      const argv = e.argv as string[];
      rows.push({ step: String(e.step), node: String(e.node), what: argv.join(' '), argv, exitCode: e.exitCode as number | null, startedAt: String(e.startedAt), durationMs: Number(e.durationMs), output: String(e.output), outcome: e.exitCode === 0 ? 'ok' : 'failed' });
    } else if (e.type === 'step-failed') {
      rows.push({ step: String(e.step), node: String(e.node), what: '(step failed)', exitCode: null, startedAt: String(e.at), durationMs: 0, output: String(e.message), outcome: 'failed' });
    } else if (e.type === 'approval') {
      const step = String(e.step);
      rows.push({ step: 'approval', node: step.split(':')[1] ?? '-', what: `${step}: ${String(e.question)}`, exitCode: null, startedAt: String(e.at), durationMs: 0, output: `approved by ${String(e.by)}${e.upFront ? ' (up front, --yes)' : ''}`, outcome: 'approved' });
    }
  }
  // Stable: rows of one instant keep the record's order.
  return rows.map((r, i) => ({ r, i })).sort((a, b) => a.r.startedAt.localeCompare(b.r.startedAt) || a.i - b.i).map((x) => x.r);
}

/** The audit trail of a run from its history alone (no journal, no progress): `trailRows` of its record's events. */
export function auditTrail(history: HistoryEvent[]): AuditRow[] {
  return trailRows(auditEvents({ workflowId: '', runId: '', events: history }));
}
