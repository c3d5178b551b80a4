import { defineSearchAttributeKey } from '@temporalio/common';
import { ApplicationFailure, condition, defineUpdate, patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { hasRole, SEARCH_ATTRIBUTES, type Identity } from '../domain/identity';
import { ApproveSchema, describeZodError, RejectSchema, type ApproveInput, type RejectInput } from '../domain/inputs';
import type { ApprovalRecord, RejectionRecord } from '../domain/progress';
import type { ProgressTracker } from './steps';

/** Update: approve the pending destructive step. Rejected (validator) unless `step` is the one waiting. */
export const approveUpdate = defineUpdate<ApprovalRecord, [ApproveInput]>('approve');

/** Update: reject the pending step; the run stops at its safe point with who and why (0.5). */
export const rejectUpdate = defineUpdate<RejectionRecord, [RejectInput]>('reject');

/** Patch id of the waiting-step search attribute (0.5): `runs` lists runs without replaying them. */
export const WAITING_STEP_ATTRIBUTE = 'waiting-step-attribute';

/** The search attribute holding the step a run waits on (removed when none waits); domain/identity.ts. */
export const waitingStepKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.waitingStep, 'KEYWORD');

/** Who asked for the run and whether its approvals need a second person. */
export interface ApprovalPolicy {
  requester?: Identity;
  fourEyes: boolean;
}

/**
 * Why `principal` may not decide on this run's steps, or undefined. Four-eyes: the requester may
 * not approve (or reject) their own run's steps; a decision carrying roles must hold approver.
 */
export function decisionRefusal(policy: ApprovalPolicy, principal: string, roles?: readonly string[]): string | undefined {
  if (roles && !hasRole(roles as never, 'approver')) return `${principal} does not have the approver role`;
  if (policy.fourEyes && policy.requester && policy.requester.principal === principal) {
    return `four-eyes: ${principal} requested this run and may not approve its steps; another approver must`;
  }
  return undefined;
}

/**
 * Human approval of destructive steps. A step waits until an `approve` update names it, a
 * `reject` update names it, or the timeout; without approval the run stops at a safe point
 * (nothing of that step was done) with ApprovalTimeout or Rejected. With `approvedBy` every step
 * is approved up front. Each decision is recorded in the progress (and so in the query, the
 * history and the audit record) with who and when. The update validators refuse a wrong step, a
 * missing approver role and, under four-eyes, the requester (domain/identity.ts FOUR_EYES_DEFAULT).
 */
export class ApprovalGate {
  private granted = new Map<string, ApprovalRecord>();
  private rejected?: RejectionRecord;

  constructor(private readonly tracker: ProgressTracker, private readonly approvedBy: string | undefined, private readonly timeoutSeconds: number,
    private readonly policy: ApprovalPolicy = { fourEyes: false }) {
    const waiting = (step: string): string => {
      const pending = this.tracker.progress.pendingApproval;
      if (!pending) throw new Error('no step is waiting for approval');
      if (pending.step !== step) throw new Error(`step ${step} is not the one waiting (waiting: ${pending.step})`);
      return pending.question;
    };
    setHandler(approveUpdate, (input) => {
      const { step, by, approver } = ApproveSchema.parse(input);
      const record: ApprovalRecord = {
        step, question: this.tracker.progress.pendingApproval!.question, by, at: new Date().toISOString(), upFront: false,
        ...(approver ? { identity: { principal: approver.principal, method: approver.method, channel: approver.channel } } : {}),
      };
      this.granted.set(step, record);
      return record;
    }, {
      validator: (input) => {
        const r = ApproveSchema.safeParse(input);
        if (!r.success) throw new Error(`invalid approval: ${describeZodError(r.error)}`);
        waiting(r.data.step);
        const refusal = decisionRefusal(this.policy, r.data.approver?.principal ?? r.data.by, r.data.approver?.roles);
        if (refusal) throw new Error(refusal);
      },
    });
    setHandler(rejectUpdate, (input) => {
      const { step, by, reason } = RejectSchema.parse(input);
      this.rejected = { step, question: this.tracker.progress.pendingApproval!.question, by: { principal: by.principal, method: by.method, channel: by.channel }, reason, at: new Date().toISOString() };
      return this.rejected;
    }, {
      validator: (input) => {
        const r = RejectSchema.safeParse(input);
        if (!r.success) throw new Error(`invalid rejection: ${describeZodError(r.error)}`);
        waiting(r.data.step);
        // Stopping a run is safe, so four-eyes does not apply: the requester may reject their own.
        if (!hasRole(r.data.by.roles, 'approver') && this.policy.requester?.principal !== r.data.by.principal) {
          throw new Error(`${r.data.by.principal} does not have the approver role`);
        }
      },
    });
  }

  /**
   * Waits for approval of `step`; throws ApplicationFailure ApprovalTimeout when none comes in
   * time, Rejected when an approver rejects it.
   */
  async require(step: string, question: string): Promise<ApprovalRecord> {
    const p = this.tracker.progress;
    if (this.approvedBy) {
      const record: ApprovalRecord = { step, question, by: this.approvedBy, at: new Date().toISOString(), upFront: true };
      p.approvals.push(record);
      return record;
    }
    const now = new Date();
    p.pendingApproval = { step, question, requestedAt: now.toISOString(), expiresAt: new Date(now.getTime() + this.timeoutSeconds * 1000).toISOString() };
    const outcome = p.outcome;
    p.outcome = 'waiting-approval';
    const attribute = patched(WAITING_STEP_ATTRIBUTE);
    if (attribute) upsertSearchAttributes([{ key: waitingStepKey, value: step }]);
    const ok = await condition(() => this.granted.has(step) || this.rejected?.step === step, `${this.timeoutSeconds} seconds`);
    if (attribute) upsertSearchAttributes([{ key: waitingStepKey, value: null }]);
    p.pendingApproval = undefined;
    p.outcome = outcome;
    if (this.rejected?.step === step) {
      const r = this.rejected;
      p.rejection = r;
      p.outcome = 'stopped';
      p.message = `stopped at a safe point: step ${step} was rejected by ${r.by.principal} (${r.by.channel}): ${r.reason}`;
      throw ApplicationFailure.nonRetryable(p.message, 'Rejected', r);
    }
    if (!ok) {
      p.outcome = 'stopped';
      p.message = `stopped at a safe point: step ${step} was not approved within ${this.timeoutSeconds} s (${question})`;
      throw ApplicationFailure.nonRetryable(p.message, 'ApprovalTimeout');
    }
    const record = this.granted.get(step)!;
    p.approvals.push(record);
    return record;
  }
}
