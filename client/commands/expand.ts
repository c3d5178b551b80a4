import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { inventoryDigest, loadInventoryFile } from '../../inventory/load';
import { nodeByName } from '../../inventory/schema';
import { describeZodError, ExpandInputSchema } from '../../domain/inputs';
import { connectClient, runbookWorkflowId } from '../connect';
import { watchProgress } from '../watch';
import { clusterStatus, expandCluster } from '../../workflows';
import { memberTable } from '../render';
import { errorMessage } from '../../workflows/steps';

export interface ExpandOptions { inventory: string; add: string; allowEvenSize?: boolean; wait?: boolean }

/**
 * `etcd-runbooks expand`: validates the input and the inventory locally (nothing starts on bad
 * input), starts `expandCluster` under the cluster's workflow id, prints the plan and each step as
 * it runs, then the final member table. Exit code 0 only when the run completed.
 */
export async function expandCommand(opts: ExpandOptions, out = console.log): Promise<number> {
  const inv = loadInventoryFile(opts.inventory);
  const parsed = ExpandInputSchema.safeParse({
    cluster: inv.cluster,
    add: opts.add.split(',').map((s) => s.trim()).filter(Boolean),
    allowEvenSize: Boolean(opts.allowEvenSize),
    inventoryDigest: inventoryDigest(opts.inventory),
  });
  if (!parsed.success) throw new Error(`expand: ${describeZodError(parsed.error)}`);
  for (const n of parsed.data.add) nodeByName(inv, n);

  const { client, connection, settings } = await connectClient();
  try {
    const workflowId = runbookWorkflowId(inv.cluster);
    let handle;
    try {
      handle = await client.workflow.start(expandCluster, {
        taskQueue: settings.taskQueue, workflowId, args: [parsed.data],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'FAIL',
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) throw new Error(`a runbook is already running on cluster ${inv.cluster} (workflow id ${workflowId}); wait for it or inspect it with: temporal workflow describe -w ${workflowId}`);
      throw e;
    }
    out(`started expandCluster on ${inv.cluster}: workflow ${workflowId}, run ${handle.firstExecutionRunId}`);
    if (opts.wait === false) return 0;
    await watchProgress(handle, out);
    try {
      const r = await handle.result();
      out(r.outcome === 'nothing-to-do' ? `nothing to do: ${r.alreadyVoters.join(', ')} already voting members` : `expand completed: added ${r.added.join(', ')}; snapshot ${r.snapshot?.node}:${r.snapshot?.path}`);
    } catch (e) {
      out(`expand failed: ${errorMessage(e)}`);
      return 1;
    }
    const state = await client.workflow.execute(clusterStatus, { taskQueue: settings.taskQueue, workflowId: `${workflowId}-status-${Date.now()}`, args: [{ cluster: inv.cluster }] });
    out(memberTable(state));
    return 0;
  } finally {
    await connection.close();
  }
}
