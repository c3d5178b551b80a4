import type { DryRunResult } from '../../workflows/phases';
import { Client, Connection, type Workflow, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporalSettings } from '../../config/temporal';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker, type RunbookWorker } from '../../worker/createWorker';
import { signedInput } from './decisions';

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

/**
 * Starts a runbook on the test's task queue under a fresh workflow id, as the service would: its
 * input signed by the tests' front end (test/support/decisions.ts).
 */
export async function startRun<A extends unknown[], R>(env: { client: Client; taskQueue: string }, workflow: (...args: A) => Promise<R>, ...args: A) {
  return startSigned(env.client, env.taskQueue, workflow as (...args: A) => Promise<Exclude<R, DryRunResult>>, `e2e-${workflow.name}-${Date.now()}-${Math.random().toString(16).slice(2, 8)}`, args[0] as Record<string, unknown>);
}

/** A runbook as a test that runs it (no dry run) sees it: its result is never a plan only. */
type Ran<W> = W extends (...a: infer A) => Promise<infer R> ? (...a: A) => Promise<Exclude<R, DryRunResult>> : W;

/** Starts `workflow` with `input` signed by the tests' front end (a start the workflow acts on). */
export async function startSigned<W extends Workflow>(client: Client, taskQueue: string, workflow: W, workflowId: string, input: Record<string, unknown>): Promise<WorkflowHandleWithFirstExecutionRunId<Ran<W>>> {
  return client.workflow.start(workflow, { taskQueue, workflowId, args: [signedInput(workflow.name, workflowId, input)] } as never) as never;
}

/** Polls `probe` every 250 ms until it returns a value, or throws after `timeoutMs`. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
