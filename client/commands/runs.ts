import Table from 'cli-table3';
import { loadInventoryFile } from '../../inventory/load';
import { cliService } from '../service';

/** `etcd-runbooks runs`: the cluster's runs, newest first: state, runbook, requester, waiting step (no replay). */
export async function runsCommand(opts: { inventory: string; limit?: string; json?: boolean }, out = console.log): Promise<number> {
  const inv = loadInventoryFile(opts.inventory);
  const { service, actor, close } = await cliService(opts.inventory);
  try {
    const runs = await service.list(actor, inv.cluster, opts.limit ? Number(opts.limit) : 20);
    if (opts.json) { out(JSON.stringify(runs, null, 2)); return 0; }
    const t = new Table({ head: ['started', 'runbook', 'state', 'requester', 'waiting step', 'run id'] });
    for (const r of runs) t.push([r.startedAt.replace(/\.\d+Z$/, 'Z'), r.workflow, r.state, r.requester ?? '', r.waitingStep ?? '', r.runId]);
    out(runs.length ? t.toString() : `no runs on ${inv.cluster} started through etcd-runbooks yet`);
    return 0;
  } finally {
    await close();
  }
}
