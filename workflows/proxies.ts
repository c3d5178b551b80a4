import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

// Every activity heartbeats when each command starts and every second while one runs
// (activities/ssh), and the worker sends heartbeats on at most a second apart
// (maxHeartbeatThrottleInterval, worker/createWorker.ts; by default the SDK holds them back for
// 80% of the timeout). So an activity whose worker died is timed out within 3 s of its last
// heartbeat and retried on another worker after the first retry interval (0.5 s): a worker crash
// mid-step costs about 3 s, not the start-to-close timeout. A live worker has 2 s of slack before a
// false timeout (event loop stalled, server slow); a false timeout retries the step, and every
// activity checks before it acts, so it costs time, not safety. On cancel the workflow waits until
// the activity has stopped (it checks before each command), so an undo never races the step it
// undoes. Each start-to-close exceeds the longest command its activities run (fence/stop: 100 s).
const HEARTBEAT = '3 seconds';
const cancellationType = ActivityCancellationType.WAIT_CANCELLATION_COMPLETED;

/** Reads: quick, retried a few times. */
export const reads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT,
  cancellationType,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 6 },
});

/** Membership changes: etcd refuses transiently ("unhealthy cluster", "not in sync"): retry for ~2 min. */
export const changes = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: HEARTBEAT,
  cancellationType,
  retry: { initialInterval: '500ms', backoffCoefficient: 1.5, maximumInterval: '5s', maximumAttempts: 30 },
});

/** Long steps (snapshot, copy, restore, bounded waits) heartbeat; a dead worker is noticed within the heartbeat timeout. */
export const long = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT,
  cancellationType,
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

/**
 * Short probes for waits kept as workflow timers (a node coming back, a learner catching up): a
 * few quick attempts (a worker that dies mid-probe is retried, not taken as an answer); the
 * workflow decides when to ask again.
 */
export const probes = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT,
  cancellationType,
  retry: { initialInterval: '500ms', maximumInterval: '5s', maximumAttempts: 3 },
});

/**
 * Undo steps on nodes: two quick attempts, so a node that does not answer costs about 30 s,
 * never minutes; what could not be undone is recorded as a leftover instead.
 */
export const undo = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT,
  retry: { initialInterval: '500ms', maximumAttempts: 2 },
});

/** Undo steps on the cluster (member remove): etcd refuses transiently for a few seconds after a change; about 30 s of retries. */
export const undoCluster = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: HEARTBEAT,
  retry: { initialInterval: '500ms', backoffCoefficient: 1.5, maximumInterval: '5s', maximumAttempts: 9 },
});

/**
 * What every activity input starts with: the cluster, the inventory digest and, on signed runs,
 * the digest of the trusted keys the run verified its decisions with (the worker refuses a run
 * whose keys differ from its own trust file: activities/wrap.ts).
 */
export interface Base { cluster: string; inventoryDigest?: string; trustDigest?: string }
