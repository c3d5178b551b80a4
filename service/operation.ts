import type { WorkflowExecutionDescription, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { SEARCH_ATTRIBUTES, type Identity } from '../domain/identity';
import type { RunbookProgress } from '../domain/progress';

/** A run's state, from its Temporal execution status. */
export type RunState = 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed-out' | 'continued';

export function runState(status: string): RunState {
  switch (status) {
    case 'RUNNING': return 'running';
    case 'COMPLETED': return 'completed';
    case 'CANCELLED': return 'cancelled';
    case 'TERMINATED': return 'terminated';
    case 'TIMED_OUT': return 'timed-out';
    case 'CONTINUED_AS_NEW': return 'continued';
    default: return 'failed';
  }
}

/** One line of `runs`: read from Temporal's visibility store (search attributes), no replay. */
export interface RunSummary {
  workflowId: string;
  runId: string;
  /** The workflow type, e.g. `expandCluster`. */
  workflow: string;
  cluster?: string;
  state: RunState;
  requester?: string;
  /** The step waiting for approval, if any. */
  waitingStep?: string;
  /** ISO-8601. */
  startedAt: string;
  closedAt?: string;
}

const keyword = (info: WorkflowExecutionInfo | WorkflowExecutionDescription, name: string): string | undefined => {
  const v = (info.searchAttributes as Record<string, unknown[] | undefined>)?.[name];
  return v?.length ? String(v[0]) : undefined;
};

export function runSummary(info: WorkflowExecutionInfo | WorkflowExecutionDescription): RunSummary {
  const cluster = keyword(info, SEARCH_ATTRIBUTES.cluster);
  const requester = keyword(info, SEARCH_ATTRIBUTES.requester);
  const waitingStep = keyword(info, SEARCH_ATTRIBUTES.waitingStep);
  return {
    workflowId: info.workflowId, runId: info.runId, workflow: info.type, state: runState(info.status.name),
    ...(cluster ? { cluster } : {}), ...(requester ? { requester } : {}), ...(waitingStep && info.status.name === 'RUNNING' ? { waitingStep } : {}),
    startedAt: info.startTime.toISOString(), ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
  };
}

/** Where a chat bridge follows a run (kept in the run's memo, so a restarted bridge picks it up). */
export interface ChatThread {
  kind: 'slack' | 'matrix';
  /** Slack channel id or Matrix room id. */
  room: string;
  /** Slack message ts or Matrix event id of the run's message (its thread root). */
  thread: string;
}

/**
 * A run as a long-running operation (Google AIP-151 style): `name` is `clusters/<c>/runs/<run id>`;
 * `done` once closed, then `response` (the workflow's result) or `error` (type and message).
 * `progress` holds the plan, each step's status and the waiting approval.
 */
export interface Operation {
  name: string;
  done: boolean;
  run: RunSummary;
  requester?: Identity;
  /** The chat thread that follows the run, when started from chat. */
  chat?: ChatThread;
  progress?: RunbookProgress;
  error?: { type: string; message: string; end?: 'undone' | 'safe point' };
  response?: unknown;
  /** A copy in flight (snapshot or data between nodes), from its activity's heartbeat. */
  transfer?: Transfer;
}

/** A running copy's bytes, rate and ETA, from its activity's heartbeat details (activities ClusterOps.pipe). */
export interface Transfer {
  activity: string;
  bytes: number;
  totalBytes: number;
  rateBytesPerSec?: number;
  etaSeconds?: number;
}

/** The first pending activity of a run that reports a copy's progress in its heartbeat, if any. */
export function transferOf(desc: WorkflowExecutionDescription): Transfer | undefined {
  for (const a of desc.raw.pendingActivities ?? []) {
    const p = a.heartbeatDetails?.payloads?.[0];
    if (!p) continue;
    try {
      const d = defaultPayloadConverter.fromPayload<{ bytes?: number; totalBytes?: number; rateBytesPerSec?: number; etaSeconds?: number }>(p as never);
      if (d?.bytes !== undefined && d.totalBytes) {
        return {
          activity: a.activityType?.name ?? '', bytes: d.bytes, totalBytes: d.totalBytes,
          ...(d.rateBytesPerSec !== undefined ? { rateBytesPerSec: d.rateBytesPerSec } : {}), ...(d.etaSeconds !== undefined ? { etaSeconds: d.etaSeconds } : {}),
        };
      }
    } catch {
      // not a copy's heartbeat
    }
  }
  return undefined;
}
