import { ServiceError } from '../../service/errors';
import { describeOperationFailure } from '../failure';
import { inventoryArg } from '../prepare';
import { cliRuns } from '../service';

/**
 * `etcd-runbooks cancel`: cancels the cluster's running runbook (who and why recorded in its
 * history and audit record) and waits for it to end. Before a runbook's point of no return the run
 * undoes its changes; after it, the run stops at its safe point. Prints how it ended and what is
 * left where. Exit 2 when nothing runs.
 */
export async function cancelCommand(opts: { inventory: string; reason?: string }, out = console.log, intervalMs = 500): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    let run;
    try {
      const current = await runs.get(cluster);
      if (current.done) throw new ServiceError('conflict', `nothing runs on cluster ${cluster} (the newest run, ${current.run.workflow}, is ${current.run.state})`);
      run = await runs.cancel(cluster, opts.reason ?? 'cancelled from the CLI', current.run.runId);
    } catch (e) {
      if (e instanceof ServiceError && (e.kind === 'conflict' || e.kind === 'not-found')) { out(e.message); return 2; }
      throw e;
    }
    out(`cancel requested for ${run.workflow} on ${cluster}; waiting for it to undo or reach its safe point`);
    for (;;) {
      const op = await runs.get(cluster, run.runId);
      if (op.done) {
        if (op.run.state === 'completed') out(`${run.workflow} completed before the cancel took effect`);
        else for (const line of describeOperationFailure(run.workflow, op)) out(line);
        return 0;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  } finally {
    await runs.close();
  }
}
