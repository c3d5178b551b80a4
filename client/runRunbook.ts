import { createInterface } from 'node:readline/promises';
import { WorkflowExecutionAlreadyStartedError, type Workflow } from '@temporalio/client';
import { approveUpdate, clusterStatus, progressQuery } from '../workflows';
import { connectClient } from './connect';
import { memberTable } from './render';
import { watchProgress } from './watch';
import { describeFailure } from './failure';
import { approver, runbookWorkflowId, type PreparedRun } from './prepare';

/**
 * Starts `workflow` with a prepared (validated) input under the cluster's workflow id, follows its
 * progress (asking for approvals on a terminal), then prints the result and the member table.
 * Returns the process exit code: 0 only when the run completed.
 */
export async function runRunbook(workflow: Workflow, prepared: PreparedRun, out: (line: string) => void = console.log): Promise<number> {
  const { inv, opts } = prepared;
  const { client, connection, settings } = await connectClient();
  try {
    const workflowId = runbookWorkflowId(inv.cluster);
    let handle;
    try {
      handle = await client.workflow.start(workflow as Workflow, {
        taskQueue: settings.taskQueue, workflowId, args: [prepared.input] as never,
        workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'FAIL',
      });
    } catch (e) {
      if (e instanceof WorkflowExecutionAlreadyStartedError) throw new Error(`a runbook is already running on cluster ${inv.cluster} (workflow id ${workflowId}); wait for it, or see it with: etcd-runbooks history ${workflowId}`);
      throw e;
    }
    out(`started ${workflow.name} on ${inv.cluster}: workflow ${workflowId}, run ${handle.firstExecutionRunId}`);
    if (opts.wait === false) return 0;
    const rl = process.stdin.isTTY && !opts.yes ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
    try {
      await watchProgress(handle, out, async (pending) => {
        if (!rl) {
          out(`waiting for approval of ${pending.step} (${pending.question}) until ${pending.expiresAt}: etcd-runbooks approve --inventory ${opts.inventory} --step ${pending.step}`);
          return;
        }
        const answer = (await rl.question(`approve: ${pending.question}? [y/N] `)).trim().toLowerCase();
        if (answer === 'y' || answer === 'yes') await handle.executeUpdate(approveUpdate, { args: [{ step: pending.step, by: approver() }] });
        else out(`not approved; the run stops at a safe point at ${pending.expiresAt} unless approved with: etcd-runbooks approve --inventory ${opts.inventory} --step ${pending.step}`);
      });
    } finally {
      rl?.close();
    }
    try {
      const r = await handle.result();
      out(`${workflow.name} completed: ${JSON.stringify(r, (k, v) => (k === 'approvals' ? undefined : v))}`);
      const left = (await handle.query(progressQuery).catch(() => undefined))?.leftovers ?? [];
      for (const l of left) out(`  left on ${l.node}: ${l.what} -> ${l.fix}`);
    } catch (e) {
      for (const line of describeFailure(workflow.name, e)) out(line);
      return 1;
    }
    const state = await client.workflow.execute(clusterStatus, { taskQueue: settings.taskQueue, workflowId: `${workflowId}-status-${Date.now()}`, args: [{ cluster: inv.cluster }] });
    out(memberTable(state));
    return 0;
  } finally {
    await connection.close();
  }
}
