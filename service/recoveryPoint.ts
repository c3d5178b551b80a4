import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import type { DrillResult } from '../activities';
import { SEARCH_ATTRIBUTES } from '../domain/identity';
import { failureOf } from './errors';

/** The recovery point one can count on: the newest backup that passed a restore drill, and the newest drill if it failed. */
export interface RecoveryPoint {
  /** The newest passed drill: which copy, when it was taken and drilled. */
  passed?: { backup: string; takenAt?: string; drilledAt: string; ageSeconds?: number };
  /** The newest drill when it failed (newer than the last pass): the alert. */
  failed?: { drilledAt: string; message: string };
}

/** How many of the newest closed drillRestore runs to look through. */
const LOOK_BACK = 50;

const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/**
 * Reads the cluster's restore drills on `taskQueue` from Temporal (runs started through the CLI,
 * the API, chat or a schedule: they carry the EtcdRunbooksCluster search attribute): the newest
 * that passed gives the recovery point (the age of the backup it restored); a newer one that
 * failed (not cancelled: someone chose that) is the alert. `now`: for the age (ms since epoch).
 */
export async function recoveryPoint(client: Client, taskQueue: string, cluster: string, now = Date.now()): Promise<RecoveryPoint> {
  const out: RecoveryPoint = {};
  let seen = 0;
  const query = `WorkflowType = "drillRestore" AND ExecutionStatus != "Running" AND TaskQueue = ${quote(taskQueue)} AND ${SEARCH_ATTRIBUTES.cluster} = ${quote(cluster)}`;
  for await (const w of client.workflow.list({ query })) {
    if (++seen > LOOK_BACK || out.passed) break;
    if (!w.closeTime) continue;
    const h = client.workflow.getHandle(w.workflowId, w.runId);
    if (w.status.name === 'COMPLETED') {
      const r = (await h.result()) as DrillResult;
      out.passed = { backup: `${r.host}:${r.backup}`, drilledAt: w.closeTime.toISOString(), ...(r.takenAt ? { takenAt: r.takenAt, ageSeconds: Math.round((now - Date.parse(r.takenAt)) / 1000) } : {}) };
    } else if (!out.failed && w.status.name !== 'CANCELLED') {
      out.failed = { drilledAt: w.closeTime.toISOString(), message: await failureMessage(client, w) };
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

/** A restore drill that did not pass: the alert a chat bridge posts (chat/alerts.ts). */
export interface DrillFailure {
  cluster: string;
  workflowId: string;
  runId: string;
  /** ISO 8601, when the run closed. */
  closedAt: string;
  /** Why: the run's failure (e.g. `restore drill FAILED for vault:/var/backups/...: integrity: SHA-256 ...`). */
  message: string;
}

/**
 * The drillRestore runs on `taskQueue` that closed after `since` without passing (failed, timed out,
 * terminated; not cancelled: someone chose that), oldest first, at most `limit`. The cluster is the
 * run's EtcdRunbooksCluster search attribute, which every drill started through the service or a
 * schedule carries.
 */
export async function drillFailures(client: Client, taskQueue: string, since: Date, limit = 20): Promise<DrillFailure[]> {
  const query = `WorkflowType = "drillRestore" AND ExecutionStatus IN ("Failed", "TimedOut", "Terminated") AND TaskQueue = ${quote(taskQueue)}`
    + ` AND CloseTime > ${quote(since.toISOString())} AND ${SEARCH_ATTRIBUTES.cluster} IS NOT NULL`;
  const out: DrillFailure[] = [];
  for await (const w of client.workflow.list({ query, pageSize: limit })) {
    const cluster = (w.searchAttributes as Record<string, unknown[] | undefined>)[SEARCH_ATTRIBUTES.cluster]?.[0];
    if (typeof cluster !== 'string' || !w.closeTime) continue;
    out.push({ cluster, workflowId: w.workflowId, runId: w.runId, closedAt: w.closeTime.toISOString(), message: await failureMessage(client, w) });
    if (out.length >= limit) break;
  }
  return out.sort((a, b) => a.closedAt.localeCompare(b.closedAt));
}

async function failureMessage(client: Client, w: WorkflowExecutionInfo): Promise<string> {
  const h = client.workflow.getHandle(w.workflowId, w.runId);
  const message = await h.result().then(() => '', (e: unknown) => failureOf(e).message);
  return message || w.status.name;
}
