import { createInterface } from 'node:readline/promises';
import type { Workflow } from '@temporalio/client';
import { clusterStatus, progressQuery } from '../workflows';
import { RUNBOOKS, type RunbookName } from '../service/catalogue';
import { memberTable } from './render';
import { watchProgress } from './watch';
import { describeFailure } from './failure';
import { type PreparedRun } from './prepare';
import { cliService } from './service';

/**
 * Starts `workflow` with a prepared (validated) input through the service layer (as the OS user;
 * service/runs.ts), follows its progress (asking for approvals on a terminal), then prints the
 * result and the member table. Returns the process exit code: 0 only when the run completed.
 */
export async function runRunbook(workflow: Workflow, prepared: PreparedRun, out: (line: string) => void = console.log): Promise<number> {
  const { inv, opts } = prepared;
  const name = (Object.keys(RUNBOOKS) as RunbookName[]).find((k) => RUNBOOKS[k].workflow === prepared.runbook)!;
  const { service, actor, client, taskQueue, close } = await cliService(opts.inventory);
  try {
    const { operation } = await service.start(actor, name, inv.cluster, prepared.fields, { approvedUpFront: Boolean(opts.yes) });
    const { workflowId, runId } = operation.run;
    const handle = client.workflow.getHandle(workflowId, runId);
    out(`started ${workflow.name} on ${inv.cluster}: workflow ${workflowId}, run ${runId}`);
    if (opts.wait === false) return 0;
    const rl = process.stdin.isTTY && !opts.yes ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
    try {
      await watchProgress(handle, out, async (pending) => {
        if (!rl) {
          out(`waiting for approval of ${pending.step} (${pending.question}) until ${pending.expiresAt}: etcd-runbooks approve --inventory ${opts.inventory} --step ${pending.step}`);
          return;
        }
        const answer = (await rl.question(`approve: ${pending.question}? [y/N] `)).trim().toLowerCase();
        if (answer === 'y' || answer === 'yes') await service.approve(actor, inv.cluster, pending.step, { runId });
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
    const state = await client.workflow.execute(clusterStatus, { taskQueue, workflowId: `${workflowId}-status-${Date.now()}`, args: [{ cluster: inv.cluster }] });
    out(memberTable(state));
    return 0;
  } finally {
    await close();
  }
}
