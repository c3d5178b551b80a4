import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { CommandRecord } from '../activities/audit';
import type { Identity } from '../domain/identity';
import type { ApprovalRecord, CancelRecord, RejectionRecord, RunbookProgress } from '../domain/progress';
import type { DecisionClaims } from '../domain/decision';
import type { JournalEntry } from './journal';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payloads = temporal.api.common.v1.IPayloads | null | undefined;

/** One event of an audit record before chaining (chain.ts adds `seq` and `prev`). */
export type AuditEvent = { type: string } & Record<string, unknown>;

/**
 * Activities whose results are evidence: snapshots (path, size, sha256, revision, keys), the member
 * table before the change (inspectCluster) and after it (verifyCluster), the survivors' evidence of
 * a quorum recovery, copies and trial restores.
 */
export const EVIDENCE_STEPS = new Set(['inspectCluster', 'takeSnapshot', 'takeBackup', 'copyBackupOffNode', 'verifySnapshot', 'gatherEvidence', 'copySnapshot', 'trialRestore', 'backupDataDir', 'verifyCluster']);
/** An evidence result larger than this (characters of JSON) is cut, and says so. */
const EVIDENCE_CHARS = 16_000;
const OUTPUT_CHARS = 600;

/** What the record is built from: the closed run's history, its final progress (query) and the worker's journal. */
export interface RecordSources {
  workflowId: string;
  runId: string;
  events: HistoryEvent[];
  /** The `progress` query's answer after close; absent if the query failed (the record says so). */
  progress?: RunbookProgress;
  /** Every command of every attempt (journal.ts); absent when this worker host journaled none. */
  journal?: JournalEntry[];
}

function decode<T>(p: Payloads, i = 0): T | undefined {
  const payload = p?.payloads?.[i];
  return payload ? defaultPayloadConverter.fromPayload<T>(payload as never) : undefined;
}

function time(e: HistoryEvent): string {
  const t = e.eventTime;
  if (!t) return '';
  const ms = Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

function evidenceOf(step: string, node: string, result: unknown): AuditEvent {
  const json = JSON.stringify(result) ?? 'null';
  return json.length <= EVIDENCE_CHARS ? { type: 'evidence', step, node, result } : { type: 'evidence', step, node, truncated: true, resultExcerpt: json.slice(0, EVIDENCE_CHARS) };
}

function commandEvent(step: string, activityId: string, attempt: number, c: CommandRecord, source: 'journal' | 'history'): AuditEvent {
  return {
    type: 'command', step, activityId, attempt, node: c.node, argv: c.argv, exitCode: c.exitCode, startedAt: c.startedAt, durationMs: c.durationMs,
    output: ((c.error ? `${c.error}: ` : '') + (c.stderr.trim() || c.stdout.trim())).slice(0, OUTPUT_CHARS), source,
  };
}

/** The claims of a run's start decision (not verified here: the run verified them before it acted), or undefined. */
function startClaims(text: string | undefined): DecisionClaims | undefined {
  if (!text) return undefined;
  try { return JSON.parse(text) as DecisionClaims; } catch { return undefined; }
}

/**
 * Who started the run, from the Temporal client identity in its first event: `cli:<user>@<host>`
 * (the CLI: an OS user, not authenticated) -> channel `cli`; a client with another identity (an SDK
 * default `pid@host`, the server's scheduler) -> channel `temporal-client`.
 */
export function requesterOf(identity: string): { principal: string; channel: string; identity: string } {
  const m = /^(cli):(.+)$/.exec(identity);
  return m ? { principal: m[2], channel: m[1], identity } : { principal: identity, channel: 'temporal-client', identity };
}

/**
 * The audit record's events for one closed run, in this order: `run` (runbook, input, who started
 * it and through what, when); `plan` (the steps and how each ended, from the progress query);
 * `command` (every command: from the journal, every attempt; else the history's last attempts,
 * marked `source: history`); `step-failed` (each activity attempt that failed, with its message); `approval`, `rejection`, `cancel-requested` (each decision with who,
 * how authenticated, when and why); `evidence` (results of
 * EVIDENCE_STEPS activities); `outcome` (completed, failed, cancelled, terminated or timed out,
 * with the message and what was left where). Pure: no I/O.
 */
export function auditEvents(src: RecordSources): AuditEvent[] {
  const out: AuditEvent[] = [];
  const scheduled = new Map<string, { type: string; node: string; activityId: string }>();
  const commands: AuditEvent[] = [];
  const approvals: AuditEvent[] = [];
  const evidence: AuditEvent[] = [];
  const failures: AuditEvent[] = [];
  const seenApprovals = new Set<string>();
  const attempts = new Map<string, number>();
  let run: AuditEvent | undefined;
  let outcome: AuditEvent | undefined;
  const senders = new Map<string, string>();
  const approval = (a: ApprovalRecord & { temporalIdentity?: string }) => {
    if (!a?.by || seenApprovals.has(a.step)) return;
    seenApprovals.add(a.step);
    approvals.push({ type: 'approval', step: a.step, question: a.question, by: a.by, at: a.at, upFront: a.upFront, ...(a.identity ? { identity: a.identity } : {}), ...(a.proof ? { proof: a.proof } : {}), ...(a.temporalIdentity !== undefined ? { temporalIdentity: a.temporalIdentity } : {}) });
  };
  for (const e of src.events) {
    const started = e.workflowExecutionStartedEventAttributes;
    if (started) {
      const input = decode<{ requester?: Identity; authority?: { claims?: string; keyId?: string } }>(started.input) ?? null;
      // Signed runs (0.6): the requester is the one the start decision names (the run verified it;
      // the decision itself stays in the input). Before: the service put the requester in the
      // input. The Temporal client identity says which process sent it.
      const claims = startClaims(input?.authority?.claims);
      const requester = claims
        ? { principal: claims.principal, method: claims.method, channel: claims.channel, roles: claims.roles, identity: started.identity ?? '', decision: { keyId: input?.authority?.keyId, nonce: claims.nonce, iat: new Date(claims.iat).toISOString() } }
        : input?.requester ? { ...input.requester, identity: started.identity ?? '' } : requesterOf(started.identity ?? '');
      run = {
        type: 'run', workflowId: src.workflowId, runId: src.runId, runbook: started.workflowType?.name ?? '?', taskQueue: started.taskQueue?.name ?? '',
        input, requester, startedAt: time(e),
      };
      continue;
    }
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      scheduled.set(String(e.eventId ?? ''), { type: s.activityType?.name ?? '?', node: decode<{ node?: string }>(s.input)?.node ?? '-', activityId: s.activityId ?? '' });
      continue;
    }
    const startedTask = e.activityTaskStartedEventAttributes;
    if (startedTask) {
      attempts.set(String(e.eventId ?? ''), startedTask.attempt ?? 0);
      continue;
    }
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const act = scheduled.get(String(done.scheduledEventId ?? ''));
      const step = decode<{ result?: unknown; commands?: CommandRecord[]; journalFailures?: { count: number; first: string } }>(done.result);
      if (act && EVIDENCE_STEPS.has(act.type)) evidence.push(evidenceOf(act.type, act.node, step?.result ?? null));
      // Commands of this step the journal lost: the record says so instead of looking complete.
      if (act && step?.journalFailures) evidence.push({ type: 'journal-failure', step: act.type, node: act.node, count: step.journalFailures.count, first: step.journalFailures.first });
      if (!src.journal && act) commands.push(...(step?.commands ?? []).map((c) => commandEvent(act.type, act.activityId, attempts.get(String(done.startedEventId ?? '')) ?? 0, c, 'history')));
      continue;
    }
    const failed = e.activityTaskFailedEventAttributes;
    if (failed) {
      const act = scheduled.get(String(failed.scheduledEventId ?? ''));
      let f = failed.failure;
      while (f?.cause && !f.applicationFailureInfo) f = f.cause;
      if (act && !src.journal) commands.push(...(decode<CommandRecord[]>(f?.applicationFailureInfo?.details) ?? []).map((c) => commandEvent(act.type, act.activityId, attempts.get(String(failed.startedEventId ?? '')) ?? 0, c, 'history')));
      if (act) failures.push({ type: 'step-failed', step: act.type, node: act.node, activityId: act.activityId, message: (f?.message ?? 'failed').slice(0, OUTPUT_CHARS), at: time(e) });
      continue;
    }
    const accepted = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta;
    if (accepted?.updateId) {
      senders.set(accepted.updateId, accepted.identity ?? '');
      continue;
    }
    const updated = e.workflowExecutionUpdateCompletedEventAttributes;
    if (updated?.outcome?.success) {
      const decided = decode<ApprovalRecord | RejectionRecord | CancelRecord>(updated.outcome.success);
      // Who sent the update to Temporal (the front end's client), beside who decided (the verified decision).
      const temporalIdentity = senders.get(updated.meta?.updateId ?? '');
      const via = temporalIdentity !== undefined ? { temporalIdentity } : {};
      if (decided && 'reason' in decided && 'step' in decided) approvals.push({ type: 'rejection', step: decided.step, question: decided.question, by: decided.by, reason: decided.reason, at: decided.at, ...(decided.proof ? { proof: decided.proof } : {}), ...via });
      else if (decided && 'reason' in decided) approvals.push({ type: 'cancel-requested', by: decided.by, reason: decided.reason, at: decided.at, proof: decided.proof, ...via });
      else if (decided) approval({ ...(decided as ApprovalRecord), ...via });
      continue;
    }
    const cancelAsked = e.workflowExecutionCancelRequestedEventAttributes;
    if (cancelAsked) {
      approvals.push({ type: 'cancel-requested', by: cancelAsked.identity ?? '', reason: cancelAsked.cause ?? '', at: time(e) });
      continue;
    }
    const completed = e.workflowExecutionCompletedEventAttributes;
    if (completed) {
      const result = decode<{ approvals?: ApprovalRecord[] } & Record<string, unknown>>(completed.result);
      for (const a of result?.approvals ?? []) approval(a);
      outcome = { type: 'outcome', status: 'completed', closedAt: time(e), result: result ?? null };
      continue;
    }
    const wfFailed = e.workflowExecutionFailedEventAttributes;
    if (wfFailed) {
      let f = wfFailed.failure;
      const messages: string[] = [];
      while (f) { if (f.message) messages.push(f.message); f = f.cause; }
      outcome = { type: 'outcome', status: 'failed', closedAt: time(e), message: messages.join(': ') };
      continue;
    }
    if (e.workflowExecutionCanceledEventAttributes) outcome = { type: 'outcome', status: 'cancelled', closedAt: time(e) };
    else if (e.workflowExecutionTerminatedEventAttributes) outcome = { type: 'outcome', status: 'terminated', closedAt: time(e), message: e.workflowExecutionTerminatedEventAttributes.reason ?? '', by: e.workflowExecutionTerminatedEventAttributes.identity ?? '' };
    else if (e.workflowExecutionTimedOutEventAttributes) outcome = { type: 'outcome', status: 'timed-out', closedAt: time(e) };
    else if (e.workflowExecutionContinuedAsNewEventAttributes) outcome = { type: 'outcome', status: 'continued-as-new', closedAt: time(e) };
  }
  if (src.journal) {
    for (const j of src.journal) commands.push(commandEvent(j.activityType, j.activityId, j.attempt, j, 'journal'));
  }
  for (const a of src.progress?.approvals ?? []) approval(a);
  out.push(run ?? { type: 'run', workflowId: src.workflowId, runId: src.runId, runbook: '?', input: null, requester: null, startedAt: '' });
  out.push(src.progress
    ? { type: 'plan', steps: src.progress.steps.map((p) => ({ id: p.id, title: p.title, ...(p.node ? { node: p.node } : {}), status: p.status, ...(p.startedAt ? { startedAt: p.startedAt } : {}), ...(p.finishedAt ? { finishedAt: p.finishedAt } : {}), ...(p.detail ? { detail: p.detail } : {}) })) }
    : { type: 'plan', steps: [], note: 'the progress query did not answer; the plan is not in this record' });
  out.push(...commands, ...failures, ...approvals, ...evidence);
  out.push({
    ...(outcome ?? { type: 'outcome', status: 'unknown', closedAt: '' }),
    ...(src.progress ? { runOutcome: src.progress.outcome, ...(src.progress.message ? { detail: src.progress.message } : {}), leftovers: src.progress.leftovers ?? [] } : {}),
  });
  return out;
}
