import type { WorkflowHandle } from '@temporalio/client';
import type { WorkerProcess } from './workerProcess';

/** Where in an activity's life the worker is killed. */
export type CrashPoint = 'scheduled' | 'running' | 'completed';

export interface Crash { activity: string; point: CrashPoint; at: number; resumedAfterMs?: number }

/**
 * Follows a run from outside (its history and pending activities, as any observer could) and
 * SIGKILLs the worker once at `point` of the first occurrence of each activity type not in `skip`,
 * then starts a new worker. Returns when the run has closed, with one record per crash and how long
 * the run took to make progress again (next completed activity or workflow end) after each.
 */
export async function runWithCrashes(handle: WorkflowHandle, worker: WorkerProcess, point: CrashPoint, skip: string[] = []): Promise<Crash[]> {
  const crashed = new Set(skip);
  const crashes: Crash[] = [];
  const seen = new Set<string>();
  let pendingResume: { crash: Crash; completedBefore: number } | undefined;
  for (;;) {
    const desc = await handle.describe();
    const events = (await handle.fetchHistory()).events ?? [];
    const completed = events.filter((e) => e.activityTaskCompletedEventAttributes).length;
    if (pendingResume && (completed > pendingResume.completedBefore || desc.status.name !== 'RUNNING')) {
      pendingResume.crash.resumedAfterMs = Date.now() - pendingResume.crash.at;
      pendingResume = undefined;
    }
    if (desc.status.name !== 'RUNNING') return crashes;
    let victim: string | undefined;
    if (point === 'running') {
      victim = (desc.raw.pendingActivities ?? []).find((a) => String(a.state).includes('STARTED') || a.state === 2)?.activityType?.name ?? undefined;
    } else {
      // The newest scheduled/completed event not looked at before (a completion is at once
      // followed by a workflow task event, so "last event" would never match).
      const scheduled = new Map<string, string>();
      for (const e of events) {
        const id = String(e.eventId);
        const sch = e.activityTaskScheduledEventAttributes;
        if (sch) scheduled.set(id, sch.activityType?.name ?? '');
        if (seen.has(id)) continue;
        seen.add(id);
        if (point === 'scheduled' && sch) victim = sch.activityType?.name ?? undefined;
        const done = e.activityTaskCompletedEventAttributes;
        if (point === 'completed' && done) victim = scheduled.get(String(done.scheduledEventId));
        if (victim && crashed.has(victim)) victim = undefined;
      }
    }
    if (victim && !crashed.has(victim) && !pendingResume) {
      crashed.add(victim);
      await worker.kill();
      const crash: Crash = { activity: victim, point, at: Date.now() };
      crashes.push(crash);
      pendingResume = { crash, completedBefore: completed };
      await worker.start();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
