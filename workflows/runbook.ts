import { ApplicationFailure, defineQuery, setHandler } from '@temporalio/workflow';
import type { z } from 'zod';
import type { SignedDecision, Trust } from '../domain/decision';
import type { Identity } from '../domain/identity';
import { describeZodError } from '../domain/inputs';
import type { RunbookProgress } from '../domain/progress';
import { ApprovalGate } from './approval';
import { authorizeStart } from './decisions';
import type { Base } from './proxies';
import { ProgressTracker } from './steps';

/** Query: the plan and the progress of a run (steps done, current, remaining, pending approval). */
export const progressQuery = defineQuery<RunbookProgress>('progress');

/** What every runbook starts with once its input is valid. */
export interface RunbookContext<I> {
  input: I;
  base: Base;
  tracker: ProgressTracker;
  gate: ApprovalGate;
}

type RunbookInput = {
  cluster: string; inventoryDigest?: string; approvedBy?: string; approvalTimeoutSeconds?: number; requester?: Identity; fourEyes?: boolean;
  authority?: SignedDecision; trust?: Trust;
};

/**
 * Validates the raw input with `schema` (a bad input fails the run with InvalidInput naming the
 * field, before anything is read or changed), verifies the signed start decision
 * (workflows/decisions.ts: Unauthorized otherwise), then sets up progress tracking, the
 * `progress` query and the approval gate. Requester, four-eyes and up-front approval come from
 * the verified decision only.
 */
export function startRunbook<S extends z.ZodType<RunbookInput>>(runbook: string, schema: S, raw: unknown): RunbookContext<z.output<S>> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid ${runbook} input: ${describeZodError(parsed.error)}`, 'InvalidInput');
  const input = parsed.data;
  const a = authorizeStart(runbook, raw as Record<string, unknown>, input);
  const requester = { principal: a.requester.principal, method: a.requester.method, channel: a.requester.channel };
  const tracker = new ProgressTracker({ runbook, cluster: input.cluster, outcome: 'planning', steps: [], approvals: [], requester, startProof: a.proof });
  setHandler(progressQuery, () => tracker.progress);
  const gate = new ApprovalGate(tracker, a.approvedBy, input.approvalTimeoutSeconds ?? 3600,
    { requester, fourEyes: a.fourEyes, trust: a.trust, runbook, cluster: input.cluster, used: new Set([a.proof.nonce]) });
  const base: Base = { cluster: input.cluster, ...(input.inventoryDigest ? { inventoryDigest: input.inventoryDigest } : {}), trustDigest: a.trustDigest };
  return { input, base, tracker, gate };
}

/** Fails the run at pre-flight with every problem listed; nothing has been changed. */
export function refuse(tracker: ProgressTracker, problems: string[]): never {
  tracker.progress.outcome = 'failed';
  tracker.progress.message = `pre-flight refused: ${problems.join('; ')}`;
  const pre = tracker.progress.steps.find((s) => s.id === 'preflight');
  if (pre) pre.status = 'failed';
  throw ApplicationFailure.nonRetryable(tracker.progress.message, 'PreflightFailed', problems);
}

/**
 * A tag unique to this run for file names (`<runbook>-<last 12 hex digits of the run id>`); stable
 * across replays. Not the first digits: run ids are UUIDv7, whose leading digits are a timestamp
 * shared by every run started in the same minute (two restores would share `.aside-` dirs).
 */
export function runTag(runbook: string, runId: string): string {
  return `${runbook}-${runId.replace(/-/g, '').slice(-12)}`;
}

/** `YYYYMMDDTHHMMSSZ` from workflow time (deterministic); with `ms`, `YYYYMMDDTHHMMSSmmmZ`. */
export function stamp(d: Date, ms = false): string {
  const iso = d.toISOString().replace(/[-:]/g, '');
  return ms ? iso.replace('.', '') : iso.replace(/\.\d+Z$/, 'Z');
}
