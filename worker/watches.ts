import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { InventoryRegistry } from '../activities/registry';
import { watchId } from '../service/ids';


/**
 * Keeps a watch (workflows/watchCluster.ts) running for every cluster of the worker's
 * inventories: at start, then every `everyMs` (an inventory added later gets its watch). A watch
 * already running is left as it is (workflow ID conflict policy USE_EXISTING). A start that fails
 * (the server restarting) is logged and tried again at the next round. Returns a stop function.
 */
export function keepWatches(client: Client, taskQueue: string, registry: InventoryRegistry, log: (line: string) => void, everyMs = 60_000): () => Promise<void> {
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  const ensure = async () => {
    for (const cluster of registry.clusters()) {
      if (stopped) return;
      try {
        await client.workflow.start('watchCluster', {
          workflowId: watchId(cluster), taskQueue, args: [{ cluster }], workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        });
      } catch (e) {
        log(`watch: could not start ${watchId(cluster)}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  };
  round = ensure();
  const timer = setInterval(() => { round = round.then(ensure); }, everyMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await round;
  };
}
