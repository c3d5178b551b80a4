import { kubeDrift } from '../../domain/kubeSync';
import { recoveryPointLines } from '../../service/recoveryPoint';
import { inventoryArg } from '../prepare';
import { controlPlaneTable, memberTable } from '../../render/tables';
import { cliRuns } from '../service';

/**
 * `etcd-runbooks status`: members, leader, raft index, db size and health, read through the worker;
 * then the recovery point (newest backup that passed a restore drill) and a failed newest drill.
 * Exit 3 when a member is unhealthy, the control plane drifts or the newest drill failed.
 */
export async function statusCommand(opts: { inventory: string; json?: boolean }, out = console.log): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    const state = await runs.status(cluster);
    const point = state.recoveryPoint;
    out(opts.json ? JSON.stringify(state, null, 2) : [memberTable(state), ...(state.kube?.enabled ? [controlPlaneTable(state.kube)] : []), ...recoveryPointLines(point)].join('\n'));
    // Drift of the control plane (members missing from, or extra in, an apiserver), or a failed
    // restore drill, is not all right either.
    return state.members.every((m) => m.healthy) && !(state.kube && kubeDrift(state.kube).length) && !point.failed ? 0 : 3;
  } finally {
    await runs.close();
  }
}
