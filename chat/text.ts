import type { ClusterState } from '../activities';
import { memberTable, stepLine } from '../render/tables';
import type { Operation } from '../service/operation';

/** The run's message: runbook, cluster, requester, state, then each step of the plan on a line. */
export function runMessage(op: Operation): string {
  const p = op.progress;
  const head = `${op.run.workflow} on ${op.run.cluster ?? '?'} requested by ${op.requester?.principal ?? '?'} (${op.requester?.channel ?? '?'}): ${op.done ? op.run.state : p?.outcome ?? op.run.state}`;
  const steps = (p?.steps ?? []).map((s) => stepLine(s));
  const why = p?.message ? [`why: ${p.message}`] : op.error ? [`why: ${op.error.message}`] : [];
  return [head, ...steps, ...why].join('\n');
}

/** What the run waits for, and how to answer. */
export function waitingMessage(op: Operation, how: string): string {
  const w = op.progress!.pendingApproval!;
  return `waiting for approval of ${w.step}: ${w.question} (until ${w.expiresAt}). ${how}`;
}

/** The final message: how the run ended and the member table after it. */
export function finalMessage(op: Operation, state?: ClusterState): string {
  const end = op.error ? `${op.run.workflow} ${op.run.state}: ${op.error.message}` : `${op.run.workflow} completed`;
  const left = (op.progress?.leftovers ?? []).map((l) => `left on ${l.node}: ${l.what} -> ${l.fix}`);
  return [end, ...left, ...(state ? ['members now:', memberTable(state)] : [])].join('\n');
}
