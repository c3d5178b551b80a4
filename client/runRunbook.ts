import { createInterface } from 'node:readline/promises';
import { describeOperationFailure } from './failure';
import { type PreparedRun } from './prepare';
import { dryRunTable, memberTable, resultLines } from '../render/tables';
import { cliRuns } from './service';
import type { CliRuns } from './port';
import type { Operation } from '../service/operation';
import { watchProgress } from './watch';

/**
 * Starts a prepared (validated) runbook as the caller (client/service.ts: the service layer, or
 * the local CLI service for users who are not root), follows its progress (asking for approvals on
 * a terminal), then prints the result and the member table. Returns the process exit code: 0 only
 * when the run completed.
 */
export async function runRunbook(prepared: PreparedRun, out: (line: string) => void = console.log): Promise<number> {
  const { cluster, opts } = prepared;
  const name = prepared.runbook;
  const runs = await cliRuns(opts.inventory);
  try {
    const operation = await runs.start(name, cluster, prepared.fields, { approvedUpFront: Boolean(opts.yes) });
    return await followRun(runs, cluster, operation, { ...opts, dryRun: Boolean(prepared.fields.dryRun) }, out);
  } finally {
    await runs.close();
  }
}

/**
 * Follows a run just started (by a runbook verb or `accept`) until it ends: progress lines,
 * approvals asked on a terminal (unless `yes` or no TTY: then the approve command is printed), then
 * the result, leftovers and the member table. Returns the exit code: 0 only when it completed.
 */
export async function followRun(runs: CliRuns, cluster: string, operation: Operation, opts: { inventory: string; yes?: boolean; wait?: boolean; dryRun?: boolean }, out: (line: string) => void): Promise<number> {
  const { workflowId, runId, workflow } = operation.run;
  out(`started ${workflow} on ${cluster}: workflow ${workflowId}, run ${runId}`);
  if (opts.wait === false) return 0;
  const rl = process.stdin.isTTY && !opts.yes ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
  let end;
  try {
    end = await watchProgress(runs, cluster, runId, out, async (pending) => {
      if (!rl) {
        out(`waiting for approval of ${pending.step} (${pending.question}) until ${pending.expiresAt}: etcd-runbooks approve --inventory ${opts.inventory} --step ${pending.step}`);
        return;
      }
      const answer = (await rl.question(`approve: ${pending.question}? [y/N] `)).trim().toLowerCase();
      if (answer === 'y' || answer === 'yes') await runs.approve(cluster, pending.step, runId);
      else out(`not approved; the run stops at a safe point at ${pending.expiresAt} unless approved with: etcd-runbooks approve --inventory ${opts.inventory} --step ${pending.step}`);
    });
  } finally {
    rl?.close();
  }
  if (end.run.state !== 'completed') {
    for (const line of describeOperationFailure(workflow, end)) out(line);
    return 1;
  }
  if (opts.dryRun) {
    out(`${workflow} plan for ${cluster} (dry run: pre-flight passed; nothing was changed):\n${dryRunTable((end.progress?.steps ?? []).filter((s) => s.projection))}`);
    return 0;
  }
  out(`${workflow} completed:\n${resultLines(end.response).join('\n')}`);
  for (const l of end.progress?.leftovers ?? []) out(`  left on ${l.node}: ${l.what} -> ${l.fix}`);
  out(memberTable(await runs.status(cluster)));
  return 0;
}
