import { defineSearchAttributeKey } from '@temporalio/common';
import { ApplicationFailure, condition, defineUpdate, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { actorOf, DecisionClaimsSchema, proofOf, type DecisionClaims, type SignedDecision, type Trust } from '../domain/decision';
import { hasRole, SEARCH_ATTRIBUTES, type Identity } from '../domain/identity';
import { ApproveSchema, CancelSchema, describeZodError, RejectSchema, type ApproveInput, type CancelInput, type RejectInput } from '../domain/inputs';
import type { ApprovalRecord, CancelRecord, RejectionRecord } from '../domain/progress';
import { cancelRun, verifyOnRun } from './decisions';
import type { ProgressTracker } from './steps';

/** Update: approve the pending destructive step. Rejected (validator) unless `step` is the one waiting. */
export const approveUpdate = defineUpdate<ApprovalRecord, [ApproveInput]>('approve');

/** Update: reject the pending step; the run stops at its safe point with who and why (0.5). */
export const rejectUpdate = defineUpdate<RejectionRecord, [RejectInput]>('reject');

/** The search attribute holding the step a run waits on (removed when none waits); domain/identity.ts. */
export const waitingStepKey = defineSearchAttributeKey(SEARCH_ATTRIBUTES.waitingStep, 'KEYWORD');

/** Update (signed runs): cancel the run; before its point of no return it undoes its changes, after it stops at its safe point. */
export const cancelUpdate = defineUpdate<CancelRecord, [CancelInput]>('cancel');

/**
 * Who asked for the run and whether its approvals need a second person; every decision must be
 * signed by one of the `trust` keys (workflows/decisions.ts).
 */
export interface ApprovalPolicy {
  requester: Identity;
  fourEyes: boolean;
  trust: Trust;
  runbook: string;
  cluster: string;
  /** Nonces already acted on (the start's included): a decision is acted on once. */
  used?: Set<string>;
}

/**
 * Why `principal` may not decide on this run's steps, or undefined. Four-eyes: the requester may
 * not approve (or reject) their own run's steps; a decision carrying roles must hold approver.
 */
export function decisionRefusal(policy: { requester?: Identity; fourEyes: boolean }, principal: string, roles?: readonly string[]): string | undefined {
  if (roles && !hasRole(roles as never, 'approver')) return `${principal} does not have the approver role`;
  if (policy.fourEyes && policy.requester && policy.requester.principal === principal) {
    return `four-eyes: ${principal} requested this run and may not approve its steps; another approver must`;
  }
  return undefined;
}

const identityOf = (d: DecisionClaims): Identity => ({ principal: d.principal, method: d.method, channel: d.channel });
const claimsOf = (signed: SignedDecision): DecisionClaims => DecisionClaimsSchema.parse(JSON.parse(signed.claims));

/**
 * Human approval of destructive steps. A step waits until an `approve` update names it, a
 * `reject` update names it, or the timeout; without approval the run stops at a safe point
 * (nothing of that step was done) with ApprovalTimeout or Rejected. With `approvedBy` every step
 * is approved up front. Each decision is recorded in the progress (and so in the query, the
 * history and the audit record) with who, when and, on signed runs, the proof. The update
 * validators refuse a wrong step, an unsigned or forged decision (signed runs: wrong key, run,
 * step, expired, replayed), a missing approver role and, under four-eyes, the requester. A
 * validator's Error rejects the update and leaves the run as it was.
 */
export class ApprovalGate {
  private granted = new Map<string, ApprovalRecord>();
  private rejected?: RejectionRecord;

  constructor(private readonly tracker: ProgressTracker, private readonly approvedBy: string | undefined, private readonly timeoutSeconds: number,
    private readonly policy: ApprovalPolicy) {
    const used = policy.used ?? new Set<string>();
    const waiting = (step: string): string => {
      const pending = this.tracker.progress.pendingApproval;
      if (!pending) throw new Error('no step is waiting for approval');
      if (pending.step !== step) throw new Error(`step ${step} is not the one waiting (waiting: ${pending.step})`);
      return pending.question;
    };
    /** A signed run's decision, verified for this run (and step); throws an Error that rejects the update. */
    const verified = (signed: unknown, action: 'approve' | 'reject' | 'cancel', step?: string): DecisionClaims =>
      verifyOnRun(signed, policy.trust, { action, runbook: policy.runbook, cluster: policy.cluster, ...(step ? { step } : {}), used });
    setHandler(approveUpdate, (input) => {
      const { step, decision } = ApproveSchema.parse(input);
      const question = this.tracker.progress.pendingApproval!.question;
      const d = claimsOf(decision!);
      used.add(d.nonce);
      const record: ApprovalRecord = { step, question, by: d.principal, at: new Date().toISOString(), upFront: false, identity: identityOf(d), proof: proofOf(decision!, d) };
      this.granted.set(step, record);
      return record;
    }, {
      validator: (input) => {
        const r = ApproveSchema.safeParse(input);
        if (!r.success) throw new Error(`invalid approval: ${describeZodError(r.error)}`);
        waiting(r.data.step);
        if (r.data.by !== undefined || r.data.approver !== undefined) throw new Error('invalid approval: by, approver: this run takes only a signed decision');
        const d = verified(r.data.decision, 'approve', r.data.step);
        const refusal = decisionRefusal(this.policy, d.principal, d.roles);
        if (refusal) throw new Error(refusal);
      },
    });
    setHandler(rejectUpdate, (input) => {
      const { step, decision } = RejectSchema.parse(input);
      const question = this.tracker.progress.pendingApproval!.question;
      const d = claimsOf(decision!);
      used.add(d.nonce);
      this.rejected = { step, question, by: identityOf(d), reason: d.reason ?? '(no reason given)', at: new Date().toISOString(), proof: proofOf(decision!, d) };
      return this.rejected;
    }, {
      validator: (input) => {
        const r = RejectSchema.safeParse(input);
        if (!r.success) throw new Error(`invalid rejection: ${describeZodError(r.error)}`);
        waiting(r.data.step);
        if (r.data.by !== undefined || r.data.reason !== undefined) throw new Error('invalid rejection: by, reason: this run takes only a signed decision');
        const who = actorOf(verified(r.data.decision, 'reject', r.data.step));
        // Stopping a run is safe, so four-eyes does not apply: the requester may reject their own.
        if (!hasRole(who.roles, 'approver') && this.policy.requester.principal !== who.principal) {
          throw new Error(`${who.principal} does not have the approver role`);
        }
      },
    });
    setHandler(cancelUpdate, (input) => {
      const { decision } = CancelSchema.parse(input);
      const d = claimsOf(decision);
      used.add(d.nonce);
      const record: CancelRecord = { by: identityOf(d), reason: d.reason ?? '(no reason given)', at: new Date().toISOString(), proof: proofOf(decision, d) };
      this.tracker.progress.cancel = record;
      cancelRun({ principal: d.principal, channel: d.channel, reason: record.reason });
      return record;
    }, {
      validator: (input) => {
        const r = CancelSchema.safeParse(input);
        if (!r.success) throw new Error(`invalid cancel: ${describeZodError(r.error)}`);
        if (this.tracker.progress.cancel) throw new Error(`already cancelled by ${this.tracker.progress.cancel.by.principal}`);
        const d = verified(r.data.decision, 'cancel');
        // Stopping is safe: the requester may cancel their own run; anyone else needs operator.
        if (!hasRole(d.roles, 'operator') && this.policy.requester.principal !== d.principal) throw new Error(`${d.principal} may not cancel runs: needs the operator role`);
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
    upsertSearchAttributes([{ key: waitingStepKey, value: step }]);
    const ok = await condition(() => this.granted.has(step) || this.rejected?.step === step, `${this.timeoutSeconds} seconds`);
    upsertSearchAttributes([{ key: waitingStepKey, value: null }]);
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
