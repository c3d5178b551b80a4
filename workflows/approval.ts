import { ApplicationFailure, condition, defineUpdate, setHandler } from '@temporalio/workflow';
import { ApproveSchema, describeZodError, type ApproveInput } from '../domain/inputs';
import type { ApprovalRecord } from '../domain/progress';
import type { ProgressTracker } from './steps';

/** Update: approve the pending destructive step. Rejected (validator) unless `step` is the one waiting. */
export const approveUpdate = defineUpdate<ApprovalRecord, [ApproveInput]>('approve');

/**
 * Human approval of destructive steps. A step waits until an `approve` update names it, or until
 * the timeout, after which the run stops at a safe point (nothing of that step was done) with
 * ApprovalTimeout. With `approvedBy` every step is approved up front. Each approval is recorded
 * in the progress (and so in the query and the history) with who and when.
 */
export class ApprovalGate {
  private granted = new Map<string, ApprovalRecord>();

  constructor(private readonly tracker: ProgressTracker, private readonly approvedBy: string | undefined, private readonly timeoutSeconds: number) {
    setHandler(approveUpdate, (input) => {
      const { step, by } = ApproveSchema.parse(input);
      const pending = this.tracker.progress.pendingApproval!;
      const record: ApprovalRecord = { step, question: pending.question, by, at: new Date().toISOString(), upFront: false };
      this.granted.set(step, record);
      return record;
    }, {
      validator: (input) => {
        const r = ApproveSchema.safeParse(input);
        if (!r.success) throw new Error(`invalid approval: ${describeZodError(r.error)}`);
        const pending = this.tracker.progress.pendingApproval;
        if (!pending) throw new Error('no step is waiting for approval');
        if (pending.step !== r.data.step) throw new Error(`step ${r.data.step} is not the one waiting (waiting: ${pending.step})`);
      },
    });
  }

  /** Waits for approval of `step`; throws ApplicationFailure ApprovalTimeout when none comes in time. */
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
    const ok = await condition(() => this.granted.has(step), `${this.timeoutSeconds} seconds`);
    p.pendingApproval = undefined;
    p.outcome = outcome;
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
