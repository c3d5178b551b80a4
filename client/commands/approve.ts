import { inventoryArg } from '../prepare';
import { cliRuns } from '../service';

/**
 * `etcd-runbooks approve`: approves the step the cluster's running runbook waits on, as the OS
 * user (four-eyes may refuse the requester). Without --step, prints what is pending and approves
 * nothing. Exit 2 when nothing waits, 1 when refused.
 */
export async function approveCommand(opts: { inventory: string; step?: string }, out = console.log): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    const op = await runs.get(cluster);
    const pending = op.run.state === 'running' ? op.progress?.pendingApproval : undefined;
    if (!pending) { out(`no step of ${op.run.workflow} on ${cluster} is waiting for approval`); return 2; }
    if (!opts.step) { out(`waiting: ${pending.step}: ${pending.question} (until ${pending.expiresAt}; requested by ${op.requester?.principal ?? '?'})`); return 0; }
    const record = await runs.approve(cluster, opts.step, op.run.runId);
    out(`approved ${record.step} as ${record.by} at ${record.at}`);
    return 0;
  } finally {
    await runs.close();
  }
}

/** `etcd-runbooks reject`: rejects the waiting step with a reason; the run stops at its safe point. */
export async function rejectCommand(opts: { inventory: string; step: string; reason: string }, out = console.log): Promise<number> {
  const { cluster } = inventoryArg(opts.inventory);
  const runs = await cliRuns(opts.inventory);
  try {
    const op = await runs.get(cluster);
    const record = await runs.reject(cluster, opts.step, opts.reason, op.run.runId);
    out(`rejected ${record.step} as ${record.by.principal} at ${record.at}: ${record.reason}; ${op.run.workflow} stops at its safe point`);
    return 0;
  } finally {
    await runs.close();
  }
}
