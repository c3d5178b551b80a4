import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporalSettings } from '../../config/temporal';
import { ensureSearchAttributes } from '../../service/searchAttributes';

/** An activity stub that answers `result` as a real activity would (Step<T>: result plus the commands it ran). */
export const step = <T>(result: T) => async () => ({ result, commands: [], commandCount: 0 });

/**
 * Runs `fn` with a worker on the real Temporal server whose activities are `activities` (stubs
 * answering as a lab would), on a task queue of its own: workflow logic against the real server
 * in seconds, without nodes.
 */
export async function withStubWorker(activities: Record<string, unknown>, fn: (client: Client, taskQueue: string) => Promise<void>): Promise<void> {
  const settings = temporalSettings();
  const taskQueue = `wf-stub-${process.pid}-${Date.now()}`;
  const connection = await Connection.connect({ address: settings.address });
  const native = await NativeConnection.connect({ address: settings.address });
  // The search attributes runs set (the waiting step) must exist, as the real worker makes sure.
  await ensureSearchAttributes(connection, settings.namespace);
  try {
    const worker = await Worker.create({ connection: native, namespace: settings.namespace, taskQueue, workflowsPath: require.resolve('../../workflows'), activities });
    await worker.runUntil(fn(new Client({ connection, namespace: settings.namespace }), taskQueue));
  } finally {
    await connection.close();
    await native.close();
  }
}
