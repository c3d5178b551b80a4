import type { Client } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../domain/identity';
import type { WatchProbe } from '../../domain/watch';
import type { Inventory } from '../../inventory/schema';
import { recoveryPoint, type RecoveryPoint } from '../../service/recoveryPoint';
import { rethrowCancellation } from '../errors';

/** How long a cluster's recovery point is reused (ms): drills run daily; reading one reads a drill's result. */
export const RECOVERY_POINT_TTL_MS = 5 * 60_000;
/** Workflows that read a cluster without changing it: not "a run going on". */
const READ_ONLY = ['watchCluster', 'clusterStatus', 'clusterDoctor'];

const cache = new Map<string, { at: number; rp: RecoveryPoint }>();
const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/**
 * What the watch learns from Temporal for one probe, read-only: the runbook run going on the
 * cluster (the newest running workflow on the task queue carrying the cluster's search attribute:
 * runs started through the service, chat or a schedule), and, when the inventory names a recovery
 * point objective, the recovery point (service/recoveryPoint.ts, at most every
 * RECOVERY_POINT_TTL_MS). A read that fails leaves its part out; nothing here fails the probe.
 */
export async function temporalFacts(t: { client: Client; taskQueue: string }, inv: Inventory, now = Date.now()): Promise<Pick<WatchProbe, 'running' | 'recovery'>> {
  const out: Pick<WatchProbe, 'running' | 'recovery'> = {};
  try {
    const query = `ExecutionStatus = "Running" AND TaskQueue = ${quote(t.taskQueue)} AND ${SEARCH_ATTRIBUTES.cluster} = ${quote(inv.cluster)}`;
    for await (const w of t.client.workflow.list({ query, pageSize: 10 })) {
      if (READ_ONLY.includes(w.type)) continue;
      out.running = { workflow: w.type, since: w.startTime.getTime() };
      break;
    }
  } catch (e) {
    rethrowCancellation(e);
  }
  const objective = inv.recoveryPointObjectiveHours;
  if (objective === undefined) return out;
  try {
    const hit = cache.get(inv.cluster);
    const rp = hit && now - hit.at < RECOVERY_POINT_TTL_MS ? hit.rp : await recoveryPoint(t.client, t.taskQueue, inv.cluster, now);
    if (!hit || hit.rp !== rp) cache.set(inv.cluster, { at: now, rp });
    const takenAt = rp.passed?.takenAt ? Date.parse(rp.passed.takenAt) : undefined;
    out.recovery = {
      objectiveHours: objective,
      ...(takenAt !== undefined ? { takenAt } : {}),
      ...(rp.failed ? { drillFailed: { at: Date.parse(rp.failed.drilledAt), message: rp.failed.message.slice(0, 200) } } : {}),
    };
  } catch (e) {
    rethrowCancellation(e);
  }
  return out;
}
