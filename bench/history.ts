import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Time one activity type took in a run: attempts, time inside the activity, and inside its node commands. */
export interface StepTime {
  /** Activity type, e.g. `addLearner`. */
  type: string;
  /** Completed or failed attempts recorded in the history. */
  count: number;
  /** Sum over those attempts of started -> completed (ms): what the worker spent in the activity. */
  activityMs: number;
  /** Sum of the durations of the commands the activity recorded (ms): SSH commands and etcd calls. */
  commandMs: number;
}

/**
 * Where a run's time went, from its history's timestamps alone: wall (first to last event),
 * activities (started -> completed, per type, and within that the commands they recorded), and
 * orchestration = wall minus the time at least one activity ran (workflow tasks, scheduling,
 * timers, approvals); activities that ran in parallel (pre-flight reads) count once.
 */
export interface RunBreakdown { wallMs: number; orchestrationMs: number; steps: StepTime[] }

const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']): number =>
  t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0;

function commandMs(result: temporal.api.common.v1.IPayloads | null | undefined): number {
  const p = result?.payloads?.[0];
  if (!p) return 0;
  const step = defaultPayloadConverter.fromPayload<{ commands?: Array<{ durationMs?: number }> }>(p as never);
  return (step?.commands ?? []).reduce((sum, c) => sum + (c.durationMs ?? 0), 0);
}

/** Breaks a run's history down by activity type (see RunBreakdown). Pure. */
export function breakdown(events: HistoryEvent[]): RunBreakdown {
  const types = new Map<string, string>();
  const started = new Map<string, number>();
  const steps = new Map<string, StepTime>();
  const spans: Array<[number, number]> = [];
  const add = (scheduledId: string, startedId: string, end: number, cmd: number) => {
    spans.push([started.get(startedId) ?? end, end]);
    const type = types.get(scheduledId) ?? '?';
    const s = steps.get(type) ?? { type, count: 0, activityMs: 0, commandMs: 0 };
    s.count++;
    s.activityMs += Math.max(0, end - (started.get(startedId) ?? end));
    s.commandMs += cmd;
    steps.set(type, s);
  };
  for (const e of events) {
    const id = String(e.eventId ?? '');
    if (e.activityTaskScheduledEventAttributes) types.set(id, e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    else if (e.activityTaskStartedEventAttributes) started.set(id, ms(e.eventTime));
    else if (e.activityTaskCompletedEventAttributes) {
      const a = e.activityTaskCompletedEventAttributes;
      add(String(a.scheduledEventId ?? ''), String(a.startedEventId ?? ''), ms(e.eventTime), commandMs(a.result));
    } else if (e.activityTaskFailedEventAttributes) {
      const a = e.activityTaskFailedEventAttributes;
      add(String(a.scheduledEventId ?? ''), String(a.startedEventId ?? ''), ms(e.eventTime), 0);
    }
  }
  const wallMs = events.length ? ms(events.at(-1)!.eventTime) - ms(events[0].eventTime) : 0;
  const list = [...steps.values()];
  // The union of the activities' intervals.
  let busy = 0;
  let reach = -Infinity;
  for (const [a, b] of spans.sort((x, y) => x[0] - y[0])) {
    if (b <= reach) continue;
    busy += b - Math.max(a, reach);
    reach = b;
  }
  return { wallMs, orchestrationMs: Math.max(0, wallMs - busy), steps: list };
}

/**
 * How long after `killedAtMs` (epoch ms) the worker whose identity starts with `newIdentityPrefix`
 * (the default identity is `<pid>@<host>`) first picked up a task of the run (workflow or
 * activity task started): the time a worker crash cost before the run moved again. Undefined if
 * that worker never did. Pure.
 */
export function resumedAfterMs(events: HistoryEvent[], killedAtMs: number, newIdentityPrefix: string): number | undefined {
  for (const e of events) {
    const identity = e.workflowTaskStartedEventAttributes?.identity ?? e.activityTaskStartedEventAttributes?.identity;
    if (identity?.startsWith(newIdentityPrefix) && ms(e.eventTime) >= killedAtMs) return ms(e.eventTime) - killedAtMs;
  }
  return undefined;
}
