import { temporalSettings } from '../config/temporal';
import { createWorker } from './createWorker';

/**
 * Starts the runbook worker. Inventories: arguments, else ETCD_RUNBOOKS_INVENTORY
 * (colon-separated files or directories). Stops on SIGINT/SIGTERM (Temporal's default handling).
 */
export async function runWorker(inventoryPaths: string[]): Promise<void> {
  const paths = inventoryPaths.length ? inventoryPaths : (process.env.ETCD_RUNBOOKS_INVENTORY ?? '').split(':').filter(Boolean);
  if (!paths.length) throw new Error('worker: name at least one inventory file or directory (--inventory, or ETCD_RUNBOOKS_INVENTORY)');
  const settings = temporalSettings();
  const w = await createWorker(settings, paths);
  console.error(`worker: ready, task queue ${settings.taskQueue} on ${settings.address}, inventories ${paths.join(', ')}`);
  await w.run();
}

if (require.main === module) {
  runWorker(process.argv.slice(2)).catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
