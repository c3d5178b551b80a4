import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { WorkflowExecutionAlreadyStartedError, type Workflow } from '@temporalio/client';
import type { z } from 'zod';
import { describeZodError } from '../domain/inputs';
import { inventoryDigest, loadInventoryFile } from '../inventory/load';
import { nodeByName, type Inventory } from '../inventory/schema';
import { approveUpdate, clusterStatus, progressQuery } from '../workflows';
import { connectClient, runbookWorkflowId } from './connect';
import { memberTable } from './render';
import { watchProgress } from './watch';
import { describeFailure } from './failure';

/** Options every runbook verb takes. */
export interface RunbookCliOptions {
  inventory: string;
  /** Approve every destructive step up front, as this user. */
  yes?: boolean;
  approvalTimeout?: string;
  wait?: boolean;
}

/** The user recorded as approver: $ETCD_RUNBOOKS_USER, else the login name. */
export function approver(): string {
  return process.env.ETCD_RUNBOOKS_USER || userInfo().username;
}

/**
 * Validates `fields` with `schema` together with the cluster, inventory digest and approval
 * settings (nothing starts on bad input; the error names the field), checks every node named in
 * `nodes` exists in the inventory, starts `workflow` under the cluster's workflow id, follows its
 * progress (asking for approvals on a terminal), then prints the result and the member table.
 * Returns the process exit code: 0 only when the run completed.
 */
export async function runRunbook<W extends Workflow>(
  workflow: W, schema: z.ZodType, opts: RunbookCliOptions, fields: Record<string, unknown>, nodes: string[], out: (line: string) => void = console.log,
): Promise<number> {
  const inv: Inventory = loadInventoryFile(opts.inventory);
  const parsed = schema.safeParse({
    cluster: inv.cluster, inventoryDigest: inventoryDigest(opts.inventory), ...fields,
    ...(opts.yes ? { approvedBy: approver() } : {}),
    ...(opts.approvalTimeout ? { approvalTimeoutSeconds: Number(opts.approvalTimeout) } : {}),
  });
  if (!parsed.success) throw new Error(`${workflow.name}: ${describeZodError(parsed.error)}`);
  for (const n of nodes) nodeByName(inv, n);

  const { client, connection, settings } = await connectClient();
  try {
    const workflowId = runbookWorkflowId(inv.cluster);
    let handle;
    try {
      handle = await client.workflow.start(workflow as Workflow, {
        taskQueue: settings.taskQueue, workflowId, args: [parsed.data] as never,
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
