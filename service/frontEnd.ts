import { Client, Connection } from '@temporalio/client';
import { liveAccess, type AccessRef } from '../config/access';
import { temporalConnection, temporalSettings } from '../config/temporal';
import { InventoryFiles } from './inventories';
import { RunService } from './runs';
import { ensureSearchAttributes } from './searchAttributes';

/**
 * What a long-running front end (the HTTP API, the CLI service) serves from: the service layer on
 * a lazy Temporal connection (the front end starts, and answers 503, while Temporal is unreachable),
 * the live access policy, and the inventories given (default: ETCD_RUNBOOKS_INVENTORY, `:`-separated).
 * `name` is the Temporal client identity's suffix and the prefix of its log lines.
 */
export function frontEndService(name: string, inventoryArgs: string[]): { service: RunService; access: AccessRef; close: () => Promise<void> } {
  const settings = temporalSettings();
  const access = liveAccess();
  // No gRPC retries: while Temporal does not answer, a caller gets 503 with Retry-After at once
  // (and retries with its Idempotency-Key) instead of a request held for a minute.
  const connection = Connection.lazy({ ...temporalConnection(settings), interceptors: [] });
  const client = new Client({ connection, namespace: settings.namespace, identity: `etcd-runbooks-${name}` });
  ensureSearchAttributes(connection, settings.namespace).catch((e: Error) => console.error(`${name}: search attributes not registered yet: ${e.message}`));
  const inventories = inventoryArgs.length ? inventoryArgs : (process.env.ETCD_RUNBOOKS_INVENTORY ?? '').split(':').filter(Boolean);
  return { service: new RunService(client, settings.taskQueue, new InventoryFiles(inventories), access), access, close: () => connection.close() };
}

/** Resolves at the first SIGTERM or SIGINT (how systemd and a terminal stop a front end). */
export function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
}
