import type { PendingApproval } from '../domain/progress';
import type { Operation, Transfer } from '../service/operation';
import type { CliRuns } from './port';
import { formatBytes, planTable, stepLine } from '../render/tables';

/** A running copy's bytes, rate and ETA as one line. */
export function transferLine(t: Transfer): string {
  return `  ${t.activity}: ${formatBytes(t.bytes)} of ${formatBytes(t.totalBytes)}, ${formatBytes(t.rateBytesPerSec ?? 0)}/s${t.etaSeconds !== undefined ? `, ETA ${t.etaSeconds} s` : ''}`;
}

/**
 * Prints a run's plan once it is known, then a line each time a step changes state or a copy
 * moves, until the run ends. Reads the run (CliRuns.get: the same operation the API serves) every
 * `intervalMs`. When a step waits for approval, calls `onApproval` once for it. Resolves with the
 * run as it ended.
 */
export async function watchProgress(
  runs: CliRuns, cluster: string, runId: string, out: (line: string) => void, onApproval?: (pending: PendingApproval) => Promise<void>, intervalMs = 300,
): Promise<Operation> {
  let askedFor: string | undefined;
  const seen = new Map<string, string>();
  let planShown = false;
  let lastMoving: string | undefined;
  for (;;) {
    const op = await runs.get(cluster, runId);
    const last = op.progress;
    // A dry run's plan is printed once, with its projection, when the run ends (runRunbook.ts).
    if (last && last.steps.length && !planShown && !last.steps.some((s) => s.projection)) {
      out(`plan for ${last.runbook} on cluster ${last.cluster}:\n${planTable(last)}`);
      if (last.liveness?.length) out(`members (SSH and etcd judged apart):\n  ${last.liveness.join('\n  ')}`);
      planShown = true;
    }
    const moving = op.transfer ? transferLine(op.transfer) : undefined;
    if (moving && moving !== lastMoving) out(moving);
    lastMoving = moving;
    for (const s of last?.steps ?? []) {
      const key = `${s.status}|${s.detail ?? ''}`;
      if (seen.get(s.id) !== key && s.status !== 'pending') {
        seen.set(s.id, key);
        if (!(s.id === 'preflight' && s.status === 'done')) out(stepLine(s));
      }
    }
    const pending = op.done ? undefined : last?.pendingApproval;
    if (pending && pending.step !== askedFor) {
      askedFor = pending.step;
      if (onApproval) await onApproval(pending);
    }
    if (op.done) return op;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
