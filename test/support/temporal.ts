import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../../config/temporal';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker, type RunbookWorker } from '../../worker/createWorker';

let runtimeInstalled = false;

/**
 * A real worker on the real Temporal dev server, on a task queue of its own so runs of other
 * tests or a developer's worker do not interfere, plus a client for that server.
 */
export async function startWorkerAndClient(inventoryPaths: string[]) {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger((process.env.TEMPORAL_LOG_LEVEL as 'WARN') ?? 'WARN') });
    runtimeInstalled = true;
  }
  const settings = { ...temporalSettings(), taskQueue: `e2e-${process.pid}-${Date.now()}` };
  const w: RunbookWorker = await createWorker(settings, inventoryPaths);
  const running = w.run();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  return {
    client,
    taskQueue: settings.taskQueue,
    async stop() {
      w.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** Activity types scheduled by a run, in order, read from its history. */
export async function scheduledActivities(client: Client, workflowId: string, runId?: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes?.activityType?.name ? [e.activityTaskScheduledEventAttributes.activityType.name] : []));
}
