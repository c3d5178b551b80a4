import { inventoryDigest, loadInventoryFile } from '../../inventory/load';
import { clusterStatus } from '../../workflows';
import { connectClient } from '../connect';
import { cliActorWith } from '../service';
import { runbookWorkflowId } from '../prepare';
import { controlPlaneTable, memberTable } from '../render';
import { kubeDrift } from '../../domain/kubeSync';
import { recoveryPoint, recoveryPointLines } from '../../service/recoveryPoint';

/**
 * `etcd-runbooks status`: members, leader, raft index, db size and health, read through the worker;
 * then the recovery point (newest backup that passed a restore drill) and a failed newest drill.
 * Exit 3 when a member is unhealthy, the control plane drifts or the newest drill failed.
 */
export async function statusCommand(opts: { inventory: string; json?: boolean }, out = console.log): Promise<number> {
  cliActorWith('viewer', 'read cluster status');
  const inv = loadInventoryFile(opts.inventory);
  const { client, connection, settings } = await connectClient();
  try {
    const state = await client.workflow.execute(clusterStatus, {
      taskQueue: settings.taskQueue,
      workflowId: `${runbookWorkflowId(inv.cluster)}-status-${Date.now()}`,
      args: [{ cluster: inv.cluster, inventoryDigest: inventoryDigest(opts.inventory), ...(inv.kubernetes ? { kube: true } : {}) }],
    });
    const point = await recoveryPoint(client, settings.taskQueue, inv.cluster);
    out(opts.json ? JSON.stringify({ ...state, recoveryPoint: point }, null, 2) : [memberTable(state), ...(state.kube?.enabled ? [controlPlaneTable(state.kube)] : []), ...recoveryPointLines(point)].join('\n'));
    // Drift of the control plane (members missing from, or extra in, an apiserver), or a failed
    // restore drill, is not all right either.
    return state.members.every((m) => m.healthy) && !(state.kube && kubeDrift(state.kube).length) && !point.failed ? 0 : 3;
  } finally {
    await connection.close();
  }
}
