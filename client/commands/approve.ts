import { loadInventoryFile } from '../../inventory/load';
import { approveUpdate, progressQuery } from '../../workflows';
import { connectClient } from '../connect';
import { approver, runbookWorkflowId } from '../prepare';

/**
 * `etcd-runbooks approve`: approves the step the cluster's running runbook waits on (from another
 * terminal, a script or a chat bridge). Without --step, prints what is pending and approves nothing.
 */
export async function approveCommand(opts: { inventory: string; step?: string; by?: string }, out = console.log): Promise<number> {
  const inv = loadInventoryFile(opts.inventory);
  const { client, connection } = await connectClient();
  try {
    const handle = client.workflow.getHandle(runbookWorkflowId(inv.cluster));
    const progress = await handle.query(progressQuery);
    const pending = progress.pendingApproval;
    if (!pending) { out(`no step of ${progress.runbook} on ${inv.cluster} is waiting for approval`); return 2; }
    if (!opts.step) { out(`waiting: ${pending.step}: ${pending.question} (until ${pending.expiresAt})`); return 0; }
    const record = await handle.executeUpdate(approveUpdate, { args: [{ step: opts.step, by: opts.by ?? approver() }] });
    out(`approved ${record.step} as ${record.by} at ${record.at}`);
    return 0;
  } finally {
    await connection.close();
  }
}
