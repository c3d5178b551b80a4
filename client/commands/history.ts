import Table from 'cli-table3';
import { connectClient } from '../connect';
import { directActorWith } from '../service';
import { displayCommand } from '../../render/commands';
import { auditTrail } from '../../audit/trail';

/**
 * `etcd-runbooks history RUN`: the audit trail of a run (workflow id, optionally a run id): every
 * command each step ran on which node, its exit code, duration and output excerpt, and every
 * approval. `--json` prints the rows as JSON for tools.
 */
export async function historyCommand(workflowId: string, opts: { runId?: string; json?: boolean }, out = console.log): Promise<number> {
  directActorWith('viewer', 'read run histories');
  const { client, connection } = await connectClient();
  try {
    const history = await client.workflow.getHandle(workflowId, opts.runId).fetchHistory();
    const rows = auditTrail(history.events ?? []);
    if (opts.json) {
      out(JSON.stringify(rows, null, 2));
      return 0;
    }
    const t = new Table({ style: { head: [], border: [] }, head: ['time', 'step', 'node', 'command', 'exit', 'ms', 'output'], colWidths: [14, 20, 8, 60, 6, 7, 50], wordWrap: true });
    for (const r of rows) t.push([r.startedAt.slice(11, 23), r.step, r.node, r.argv ? displayCommand(r.argv) : r.what, r.exitCode ?? (r.outcome === 'approved' ? '' : '-'), r.durationMs, r.output]);
    out(`audit trail of ${workflowId}${opts.runId ? ` run ${opts.runId}` : ''}: ${rows.length} rows`);
    out(t.toString());
    return 0;
  } finally {
    await connection.close();
  }
}
