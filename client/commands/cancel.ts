import { loadInventoryFile } from '../../inventory/load';
import { connectClient } from '../connect';
import { runbookWorkflowId } from '../prepare';
import { describeFailure } from '../failure';

/**
 * `etcd-runbooks cancel`: cancels the cluster's running runbook (as the Temporal UI's cancel does)
 * and waits for it to end. Before a runbook's point of no return the run undoes its changes;
 * after it, the run stops at its safe point. Prints how it ended and what is left where.
 */
export async function cancelCommand(opts: { inventory: string; reason?: string }, out = console.log): Promise<number> {
  const inv = loadInventoryFile(opts.inventory);
  const { client, connection } = await connectClient();
  try {
    const handle = client.workflow.getHandle(runbookWorkflowId(inv.cluster));
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING') { out(`no runbook is running on ${inv.cluster} (last: ${desc.type}, ${desc.status.name})`); return 2; }
    await handle.cancel();
    out(`cancel requested for ${desc.type} on ${inv.cluster}; waiting for it to undo or reach its safe point`);
    try {
      await handle.result();
      out(`${desc.type} completed before the cancel took effect`);
      return 0;
    } catch (e) {
      for (const line of describeFailure(desc.type, e)) out(line);
      return 0;
    }
  } finally {
    await connection.close();
  }
}
