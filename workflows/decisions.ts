import { ApplicationFailure, CancellationScope, isCancellation, workflowInfo } from '@temporalio/workflow';
import { DecisionRefused, inputDigest, trustDigest, verifyDecision, actorOf, proofOf, type DecisionClaims, type DecisionExpectation, type DecisionProof, type SignedDecision, type Trust } from '../domain/decision';
import { FOUR_EYES_DEFAULT, hasRole, type Actor } from '../domain/identity';

/** The start of a run as its signed decision says, verified. */
export interface StartAuthority {
  requester: Actor;
  fourEyes: boolean;
  /** The requester, when they approved every step up front (an approver, never under four-eyes). */
  approvedBy?: string;
  trust: Trust;
  trustDigest: string;
  proof: DecisionProof;
}

/** Control fields a signed run takes only from its start decision, never from its input. */
const CONTROL_FIELDS = ['requester', 'fourEyes', 'approvedBy'] as const;

/**
 * Verifies a run's start: `input.authority` signed by a key of `input.trust`, for this workflow
 * id, runbook and cluster, for exactly these fields (the `input` claim), not expired at the
 * server's start time. Requester, roles, four-eyes and up-front approval come from the decision.
 * Throws ApplicationFailure `Unauthorized` (non-retryable) before anything is read or changed.
 */
export function authorizeStart(runbook: string, raw: Record<string, unknown>, input: { cluster: string; authority?: SignedDecision; trust?: Trust }): StartAuthority {
  const refuse = (why: string): never => { throw ApplicationFailure.nonRetryable(`${runbook} refused: ${why}`, 'Unauthorized'); };
  for (const f of CONTROL_FIELDS) if (raw[f] !== undefined) refuse(`${f}: set only by the signed start decision, never by the caller`);
  if (!input.trust) refuse('trust: no trusted keys pinned (start it through etcd-runbooks: CLI, API or chat)');
  if (!input.authority) refuse('authority: no signed start decision (start it through etcd-runbooks: CLI, API or chat)');
  const info = workflowInfo();
  let d: DecisionClaims;
  try {
    d = verifyDecision(input.authority, input.trust!, { action: 'start', workflowId: info.workflowId, runbook, cluster: input.cluster, now: info.startTime.getTime() });
  } catch (e) {
    return refuse(e instanceof DecisionRefused ? e.message : String(e));
  }
  if (d.input !== inputDigest(raw)) refuse('decision: it was signed for other fields than this run was started with');
  const requester = actorOf(d);
  const needed = runbook === 'clusterStatus' ? 'viewer' : 'operator';
  if (!hasRole(requester.roles, needed)) refuse(`${requester.principal} (${requester.method}) may not start ${runbook}: needs the ${needed} role`);
  const fourEyes = d.fourEyes ?? FOUR_EYES_DEFAULT.includes(runbook);
  if (d.approvedUpFront) {
    if (fourEyes) refuse(`four-eyes: ${requester.principal} may not approve their own ${runbook} up front; another approver must`);
    if (!hasRole(requester.roles, 'approver')) refuse(`${requester.principal} may not approve up front: needs the approver role`);
  }
  return {
    requester, fourEyes, ...(d.approvedUpFront ? { approvedBy: requester.principal } : {}),
    trust: input.trust!, trustDigest: trustDigest(input.trust!), proof: proofOf(input.authority!, d),
  };
}

/**
 * Verifies a decision on the running run (approve, reject, cancel) inside an update validator;
 * throws DecisionRefused (an Error: in a validator it rejects the update and leaves the run as it
 * was). Pure: workflow clock, no I/O.
 */
export function verifyOnRun(signed: unknown, trust: Trust, e: Omit<DecisionExpectation, 'workflowId' | 'runId' | 'now'>): DecisionClaims {
  const info = workflowInfo();
  return verifyDecision(signed, trust, { ...e, workflowId: info.workflowId, runId: info.runId, now: Date.now() });
}

/**
 * Each run's body scope and who cancelled it, by run id. Not plain module variables: a worker runs
 * many workflows in one V8 context (reuseV8Context), where module state is shared between them, so
 * one run's cancel would reach another's scope.
 */
const bodies = new Map<string, { scope?: CancellationScope; cancelledBy?: { principal: string; channel: string; reason: string } }>();

/**
 * Cancels the run's body on a verified cancel decision (workflows/approval.ts): undo and safe
 * points run as for any cancel. A cancel request sent straight to Temporal reaches a signed run's
 * root scope only, which the body does not listen to, so it changes nothing.
 */
export function cancelRun(by: { principal: string; channel: string; reason: string }): void {
  const body = bodies.get(workflowInfo().runId);
  if (!body) return;
  body.cancelledBy = by;
  body.scope?.cancel();
}

/**
 * Wraps a runbook so that signed runs ignore unsigned cancel requests: the body runs in a
 * cancellable scope of its own inside a non-cancellable one, and only cancelRun cancels it.
 * A cancel that ends the body without its own ApplicationFailure ends as `RunCancelled` with who
 * and why. Keeps the function's name (the workflow type).
 */
export function guarded<A extends unknown[], R>(name: string, body: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  const run = async (...args: A): Promise<R> => {
    const runId = workflowInfo().runId;
    const mine: { scope?: CancellationScope; cancelledBy?: { principal: string; channel: string; reason: string } } = {};
    bodies.set(runId, mine);
    try {
      // The body's scope is made inside the non-cancellable one, so the root's cancel does not reach it.
      return await CancellationScope.nonCancellable(() => {
        mine.scope = new CancellationScope();
        return mine.scope.run(() => body(...args));
      });
    } catch (e) {
      if (isCancellation(e) && mine.cancelledBy) {
        throw ApplicationFailure.nonRetryable(`cancelled by ${mine.cancelledBy.principal} (${mine.cancelledBy.channel}): ${mine.cancelledBy.reason}`, 'RunCancelled');
      }
      throw e;
    } finally {
      bodies.delete(runId);
    }
  };
  Object.defineProperty(run, 'name', { value: name });
  return run;
}
