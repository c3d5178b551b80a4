import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

// Every activity heartbeats when each command starts and every 2 s while one runs (activities/ssh),
// so a short heartbeat timeout lets a new worker retry an activity whose worker died within seconds
// instead of waiting out the start-to-close timeout.
const HEARTBEAT = '6 seconds';

/** Reads: quick, retried a few times. */
export const reads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

/** Membership changes: etcd refuses transiently ("unhealthy cluster", "not in sync"): retry for ~2 min. */
export const changes = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: HEARTBEAT,
  retry: { initialInterval: '1s', backoffCoefficient: 1.5, maximumInterval: '5s', maximumAttempts: 30 },
});

/** Long steps (snapshot, restore, waits) heartbeat; a dead worker is noticed within the heartbeat timeout. */
export const long = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: HEARTBEAT,
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3 },
});

/** Cluster name plus the inventory digest: what every activity input starts with. */
export interface Base { cluster: string; inventoryDigest?: string }
