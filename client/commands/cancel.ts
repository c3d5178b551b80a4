import { loadInventoryFile } from '../../inventory/load';
import { ServiceError } from '../../service/errors';
import { describeFailure } from '../failure';
import { cliService } from '../service';

/**
 * `etcd-runbooks cancel`: cancels the cluster's running runbook through the service layer (who
 * and why recorded in its history) and waits for it to end. Before a runbook's point of no return
 * the run undoes its changes; after it, the run stops at its safe point. Prints how it ended and
 * what is left where.
 */
export async function cancelCommand(opts: { inventory: string; reason?: string }, out = console.log): Promise<number> {
  const inv = loadInventoryFile(opts.inventory);
  const { service, actor, client, close } = await cliService(opts.inventory);
  try {
    let run;
    try {
      run = await service.cancel(actor, inv.cluster, opts.reason ?? 'cancelled from the CLI');
    } catch (e) {
      if (e instanceof ServiceError && (e.kind === 'conflict' || e.kind === 'not-found')) { out(e.message); return 2; }
      throw e;
    }
    out(`cancel requested for ${run.workflow} on ${inv.cluster}; waiting for it to undo or reach its safe point`);
    try {
      await client.workflow.getHandle(run.workflowId, run.runId).result();
      out(`${run.workflow} completed before the cancel took effect`);
    } catch (e) {
      for (const line of describeFailure(run.workflow, e)) out(line);
    }
    return 0;
  } finally {
    await close();
  }
}
