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

/**
 * `etcd-runbooks accept`: accepts the watch's open proposal `id` (shown by `proposals`): starts its
 * runbook as the caller, then follows it like a runbook verb (approvals on a terminal; four-eyes
 * runbooks need another approver). Exit 0 only when the run completed (or was started with --no-wait).
 */
export async function acceptCommand(id: string, opts: { inventory: string; wait?: boolean }, out = console.log): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    const operation = await runs.accept(cluster, id);
    out(`accepted ${id} as ${runs.principal}`);
    const { followRun } = await import('../runRunbook');
    return await followRun(runs, cluster, operation, opts, out);
  } finally {
    await runs.close();
  }
}
