import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { InventoryRegistry } from '../activities/registry';
import { SshPool } from '../activities/ssh/session';
import { temporalConnection, type TemporalSettings } from '../config/temporal';
import { auditSettings, type AuditSettings } from '../config/audit';
import { CommandJournal } from '../audit/journal';
import { loadOrCreateSigningKey } from '../audit/sign';
import { startAuditWriter } from '../audit/writer';
import { headCopier } from './headCopies';
import { ensureSearchAttributes } from '../service/searchAttributes';
import { loadTrust } from '../config/trust';
import { prebuiltBundlePath } from './bundle';
import { keepWatches } from './watches';

export interface RunbookWorker {
  worker: Worker;
  /** Runs until shutdown() or a fatal error; closes SSH connections and the Temporal connection after. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * A worker for every runbook, reading inventories from `inventoryPaths` (files or directories).
 * One SSH connection per node is kept for the life of the worker. Every command is journaled and
 * every closed run of the task queue gets a signed audit record (audit/, config/audit.ts). Registers
 * the search attributes the workflows set (service/searchAttributes.ts) before polling. `watch`:
 * keep a watch running for every cluster (worker/watches.ts); default from ETCD_RUNBOOKS_WATCH.
 */
export async function createWorker(settings: TemporalSettings, inventoryPaths: string[], audit: AuditSettings = auditSettings(), watch = watchesOn()): Promise<RunbookWorker> {
  const journal = new CommandJournal(audit.dir);
  const key = loadOrCreateSigningKey(audit.keyFile, audit.dir);
  const registry = new InventoryRegistry(inventoryPaths);
  const trustDigest = workerTrust();
  const pool = new SshPool();
  const bundle = prebuiltBundlePath();
  // No gRPC retry interceptor: a retry timer can outlive the call it retries and throw on the
  // closed channel after stop; a failed sweep is simply tried again at the next one.
  const clientConnection = await Connection.connect({ ...temporalConnection(settings), interceptors: [] });
  try {
    await ensureSearchAttributes(clientConnection, settings.namespace);
  } catch (e) {
    await clientConnection.close();
    throw e;
  }
  const connection = await NativeConnection.connect(temporalConnection(settings));
  const worker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    // The compiled worker loads the bundle the build made; from source, Temporal bundles at start.
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ registry, pool, journal, trustDigest, temporal: { client: new Client({ connection: clientConnection, namespace: settings.namespace }), taskQueue: settings.taskQueue } }),
    // After a worker dies, its runs' next workflow task moves to another worker after this long.
    stickyQueueScheduleToStartTimeout: '2 seconds',
    // Heartbeats reach the server at most a second apart, so the 3 s heartbeat timeout (workflows/proxies.ts) has 2 s of slack.
    maxHeartbeatThrottleInterval: '1 second',
  });
  return {
    worker,
    async run() {
      const stopAudit = startAuditWriter(new Client({ connection: clientConnection, namespace: settings.namespace }),
        { dir: audit.dir, taskQueue: settings.taskQueue, key, journal, intervalMs: audit.intervalMs, publishHead: headCopier(registry, pool) });
      const stopWatches = watch ? keepWatches(new Client({ connection: clientConnection, namespace: settings.namespace }), settings.taskQueue, registry, (l) => console.error(l)) : async () => undefined;
      try {
        await worker.run();
      } finally {
        await stopWatches();
        await stopAudit();
        pool.closeAll();
        await clientConnection.close();
        await connection.close();
      }
    },
    shutdown: () => worker.shutdown(),
  };
}

/**
 * The digest of the worker's trust file (config/trust.ts), read at start and again when a run's
 * digest differs (keys rotated since). No readable, root-owned trust file: signed runs are refused
 * by every activity, with the reason logged once.
 */
function workerTrust(): () => string | undefined {
  let current: string | undefined;
  let lastError = '';
  const read = () => {
    try {
      current = loadTrust().digest;
      lastError = '';
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== lastError) console.error(`worker: no trusted decision keys, so no signed run can act: ${msg}`);
      lastError = msg;
      current = undefined;
    }
    return current;
  };
  read();
  let lastRead = Date.now();
  return () => {
    if (Date.now() - lastRead > 5000) { lastRead = Date.now(); read(); }
    return current;
  };
}

/** ETCD_RUNBOOKS_WATCH=on: the worker keeps a watch per cluster. Off until proposals reach chat and can be accepted (issue 31). */
function watchesOn(): boolean {
  return process.env.ETCD_RUNBOOKS_WATCH === 'on';
}
