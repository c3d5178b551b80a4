import { inventoryDigest, loadInventoryFile } from '../../inventory/load';
import { clusterStatus } from '../../workflows';
import { connectClient, runbookWorkflowId } from '../connect';
import { memberTable } from '../render';

/** `etcd-runbooks status`: members, leader, raft index, db size and health, read through the worker. */
export async function statusCommand(opts: { inventory: string; json?: boolean }, out = console.log): Promise<number> {
  const inv = loadInventoryFile(opts.inventory);
  const { client, connection, settings } = await connectClient();
  try {
    const state = await client.workflow.execute(clusterStatus, {
      taskQueue: settings.taskQueue,
      workflowId: `${runbookWorkflowId(inv.cluster)}-status-${Date.now()}`,
      args: [{ cluster: inv.cluster, inventoryDigest: inventoryDigest(opts.inventory) }],
    });
    out(opts.json ? JSON.stringify(state, null, 2) : memberTable(state));
    return state.members.every((m) => m.healthy) ? 0 : 3;
  } finally {
    await connection.close();
  }
}
