import type { Client } from '@temporalio/client';
import type { DrillResult } from '../activities';

/** The recovery point one can count on: the newest backup that passed a restore drill, and the newest drill if it failed. */
export interface RecoveryPoint {
  /** The newest passed drill: which copy, when it was taken and drilled. */
  passed?: { backup: string; takenAt?: string; drilledAt: string; ageSeconds?: number };
  /** The newest drill when it failed (newer than the last pass): the alert. */
  failed?: { drilledAt: string; message: string };
}

/** How many of the newest closed drillRestore runs to look through. */
const LOOK_BACK = 50;

const ofCluster = (id: string, cluster: string) => id === `etcd-runbooks-${cluster}` || id.startsWith(`etcd-runbooks-drill-${cluster}-`);

/**
 * Reads the cluster's restore drills on `taskQueue` from Temporal (the CLI's `drill` runs and
 * `schedule drill` runs, by workflow id): the newest that passed gives the recovery point (the age of the backup it
 * restored); a newer one that failed is the alert. `now`: for the age (ms since epoch).
 */
export async function recoveryPoint(client: Client, taskQueue: string, cluster: string, now = Date.now()): Promise<RecoveryPoint> {
  const out: RecoveryPoint = {};
  let seen = 0;
  const query = `WorkflowType = "drillRestore" AND ExecutionStatus != "Running" AND TaskQueue = "${taskQueue.replace(/["\\]/g, '\\$&')}"`;
  for await (const w of client.workflow.list({ query })) {
    if (++seen > LOOK_BACK || out.passed) break;
    if (!ofCluster(w.workflowId, cluster) || !w.closeTime) continue;
    const h = client.workflow.getHandle(w.workflowId, w.runId);
    if (w.status.name === 'COMPLETED') {
      const r = (await h.result()) as DrillResult;
      out.passed = { backup: `${r.host}:${r.backup}`, drilledAt: w.closeTime.toISOString(), ...(r.takenAt ? { takenAt: r.takenAt, ageSeconds: Math.round((now - Date.parse(r.takenAt)) / 1000) } : {}) };
    } else if (!out.failed) {
      const message = await h.result().then(() => '', (e: Error & { cause?: Error }) => e.cause?.message ?? e.message);
      out.failed = { drilledAt: w.closeTime.toISOString(), message: message || w.status.name };
    }
  }
  return out;
}

/** One or two lines for `status`: the recovery point, and the alert when the newest drill failed. */
export function recoveryPointLines(p: RecoveryPoint): string[] {
  const age = (s: number) => (s >= 86400 ? `${(s / 86400).toFixed(1)} d` : s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 60)} min`);
  const lines = [p.passed
    ? `recovery point: the backup taken ${p.passed.takenAt ?? '?'}${p.passed.ageSeconds !== undefined ? ` (${age(p.passed.ageSeconds)} ago)` : ''} passed a restore drill at ${p.passed.drilledAt} (${p.passed.backup})`
    : 'recovery point: no backup has passed a restore drill yet (etcd-runbooks drill, schedule drill)'];
  if (p.failed) lines.push(`ALERT: the newest restore drill FAILED at ${p.failed.drilledAt}: ${p.failed.message}`);
  return lines;
}
