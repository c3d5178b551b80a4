import Table from 'cli-table3';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../domain/identity';
import { ensureSearchAttributes } from '../../service/searchAttributes';
import { describeZodError, intervalSeconds, ScheduleBackupInputSchema } from '../../domain/inputs';
import { loadInventoryFile } from '../../inventory/load';
import { connectClient } from '../connect';
import { directActorWith } from '../service';
import { configuredAuthority } from '../../service/runs';
import { inputDigest } from '../../domain/decision';

/** How long a schedule's signed start stays valid (ms): `schedule backup|drill` again before then re-signs it. */
export const SCHEDULE_DECISION_TTL_MS = 2 * 366 * 24 * 3600_000;

/** What a schedule runs: `backup` (backupCluster, with retention) or `drill` (drillRestore). */
export type ScheduledRunbook = 'backup' | 'drill';

/** The schedule id of a cluster's backups or drills: one of each per cluster. */
export function scheduleId(kind: ScheduledRunbook, cluster: string): string {
  return `etcd-runbooks-${kind}-${cluster}`;
}

/**
 * `schedule backup|drill`: a Temporal Schedule that starts the `backupCluster` runbook (keeping the
 * newest `keep`) or the `drillRestore` runbook every `every` (workflow id
 * `etcd-runbooks-<kind>-<cluster>-<time>`). Overlap policy skip (a run still going when the next is
 * due: the next is skipped); catch-up window of one day (a head node down at the due time takes the
 * missed run when it is back, once). Each run is a normal run with its audit record. No inventory
 * digest is pinned: each run uses the worker's inventory of the day. Creating it again updates it.
 */
export async function scheduleRunbookCommand(kind: ScheduledRunbook, o: { inventory: string; every: string; keep?: string }): Promise<number> {
  const inv = loadInventoryFile(o.inventory);
  const parsed = ScheduleBackupInputSchema.safeParse({ cluster: inv.cluster, every: o.every, ...(o.keep !== undefined ? { keep: Number(o.keep) } : {}) });
  if (!parsed.success) throw new Error(`schedule ${kind}: ${describeZodError(parsed.error)}`);
  const { cluster, every, keep } = parsed.data;
  const actor = directActorWith('operator', `schedule ${kind}s`);
  const { client, connection, settings } = await connectClient();
  try {
    const id = scheduleId(kind, cluster);
    const workflowType = kind === 'backup' ? 'backupCluster' : 'drillRestore';
    const fields = kind === 'backup' ? { cluster, keep } : { cluster };
    // Every run the schedule starts carries this decision: signed once, valid for this schedule's runs of this runbook only.
    const authority = configuredAuthority();
    const decision = authority.signer('cli').sign(actor, { action: 'start', workflowId: id, runbook: workflowType, cluster, scheduled: true, fourEyes: false, approvedUpFront: false, input: inputDigest(fields) }, SCHEDULE_DECISION_TTL_MS);
    const action = {
      type: 'startWorkflow' as const, workflowType, workflowId: id,
      taskQueue: settings.taskQueue, args: [{ ...fields, authority: decision, trust: authority.trust() }],
      // So that `runs` (and the API's run list) shows scheduled runs with the cluster's others.
      typedSearchAttributes: [{ key: defineSearchAttributeKey(SEARCH_ATTRIBUTES.cluster, 'KEYWORD'), value: cluster }],
    };
    await ensureSearchAttributes(connection, settings.namespace);
    const spec = { intervals: [{ every: (intervalSeconds(every) ?? 0) * 1000 }] };
    const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 24 * 3600_000 };
    const existing = client.schedule.getHandle(id);
    const found = await existing.describe().then(() => true, () => false);
    if (found) await existing.update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, ...policies } }));
    else await client.schedule.create({ scheduleId: id, spec, action, policies, memo: { cluster, every, ...(kind === 'backup' ? { keep } : {}) } });
    console.log(`${found ? 'updated' : 'created'} schedule ${id}: ${kind} of ${cluster} every ${every}${kind === 'backup' ? `, keep ${keep}` : ''}`);
    return 0;
  } finally {
    await connection.close();
  }
}

/** `schedule list`: every etcd-runbooks schedule with its interval, state, last and next action. */
export async function scheduleListCommand(o: { json?: boolean }): Promise<number> {
  directActorWith('viewer', 'list schedules');
  const { client, connection } = await connectClient();
  try {
    const rows = [];
    for await (const s of client.schedule.list()) {
      if (!s.scheduleId.startsWith('etcd-runbooks-')) continue;
      const d = await client.schedule.getHandle(s.scheduleId).describe();
      const last = d.info.recentActions.at(-1);
      rows.push({
        schedule: s.scheduleId, every: d.spec.intervals?.map((i) => `${Number(i.every) / 1000}s`).join(',') ?? '', paused: d.state.paused,
        last: last ? `${last.takenAt.toISOString()}` : '', next: d.info.nextActionTimes[0]?.toISOString() ?? '', actions: d.info.numActionsTaken, skipped: d.info.numActionsSkippedOverlap,
      });
    }
    if (o.json) console.log(JSON.stringify(rows));
    else {
      const t = new Table({ head: ['schedule', 'every', 'paused', 'last run', 'next run', 'runs', 'skipped'] });
      for (const r of rows) t.push([r.schedule, r.every, r.paused ? 'yes' : 'no', r.last, r.next, r.actions, r.skipped]);
      console.log(t.toString());
    }
    return 0;
  } finally {
    await connection.close();
  }
}

/** `schedule pause|unpause|delete ID`. */
export async function scheduleChangeCommand(action: 'pause' | 'unpause' | 'delete', scheduleId: string): Promise<number> {
  directActorWith('operator', `${action} schedules`);
  if (!scheduleId.startsWith('etcd-runbooks-')) throw new Error(`${scheduleId}: not an etcd-runbooks schedule (see: etcd-runbooks schedule list)`);
  const { client, connection } = await connectClient();
  try {
    const h = client.schedule.getHandle(scheduleId);
    if (action === 'pause') await h.pause('paused with etcd-runbooks schedule pause');
    else if (action === 'unpause') await h.unpause('unpaused with etcd-runbooks schedule unpause');
    else await h.delete();
    console.log(`${{ pause: 'paused', unpause: 'unpaused', delete: 'deleted' }[action]} ${scheduleId}`);
    return 0;
  } finally {
    await connection.close();
  }
}
