import Table from 'cli-table3';
import { inventoryArg } from '../prepare';
import { cliRuns } from '../service';

/** `etcd-runbooks runs`: the cluster's runs, newest first: state, runbook, requester, waiting step (no replay). */
export async function runsCommand(opts: { inventory: string; limit?: string; json?: boolean }, out = console.log): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    const list = await runs.list(cluster, opts.limit ? Number(opts.limit) : 20);
    if (opts.json) { out(JSON.stringify(list, null, 2)); return 0; }
    const t = new Table({ head: ['started', 'runbook', 'state', 'requester', 'waiting step', 'run id'] });
    for (const r of list) t.push([r.startedAt.replace(/\.\d+Z$/, 'Z'), r.workflow, r.state, r.requester ?? '', r.waitingStep ?? '', r.runId]);
    out(list.length ? t.toString() : `no runs on ${cluster} started through etcd-runbooks yet`);
    return 0;
  } finally {
    await runs.close();
  }
}
