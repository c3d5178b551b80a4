import { inventoryArg } from '../prepare';
import { proposalsTable } from '../../render/tables';
import { cliRuns } from '../service';

/**
 * `etcd-runbooks proposals`: what the cluster's watch proposes (the runbook, its fields and the
 * evidence) and reports, open first. Exit 3 when a proposal or report is open, 0 when none is.
 */
export async function proposalsCommand(opts: { inventory: string; json?: boolean }, out = console.log): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    const view = await runs.proposals(cluster);
    out(opts.json ? JSON.stringify(view, null, 2) : proposalsTable(view));
    return [...view.proposals, ...view.reports].some((x) => x.status === 'open') ? 3 : 0;
  } finally {
    await runs.close();
  }
}
