import { inventoryArg } from '../prepare';
import { doctorTable } from '../../render/tables';
import { cliRuns } from '../service';

/**
 * `etcd-runbooks doctor`: every node of the cluster checked before any runbook, through the worker
 * (it alone holds the SSH keys), one table with the fix for each problem. Exit 3 when a check
 * failed, 0 otherwise (warnings included).
 */
export async function doctorCommand(opts: { inventory: string; json?: boolean }, out = console.log): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    const rows = await runs.doctor(cluster);
    out(opts.json ? JSON.stringify(rows, null, 2) : doctorTable(rows));
    return rows.some((r) => r.verdict === 'fail') ? 3 : 0;
  } finally {
    await runs.close();
  }
}
