import { ApplicationFailure } from '@temporalio/workflow';
import { DrillInputSchema, type DrillInput } from '../domain/inputs';
import type { DrillResult } from '../activities';
import { long } from './proxies';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { startRunbook } from './runbook';

/**
 * Restore drill: the newest off-node copy of the cluster's backups is restored into a throw-away
 * single member on the backup host (never a member of the cluster) and checked against what the
 * backup held (revision, keys, KV hash); the member is then torn down. A copy that fails fails the
 * run (DrillFailed, with the reasons and the result as details), so the CLI, the API and the audit
 * record show it as the alert it is. Source: etcd docs "Disaster recovery"; reference 002.
 */
export async function drillRestore(raw: DrillInput): Promise<DrillResult | DryRunResult> {
  const { input, base, tracker } = startRunbook('drillRestore', DrillInputSchema, raw);
  let result: DrillResult | undefined;
  const phase: Phase = {
    id: 'drill', title: 'restore the newest off-node copy on the backup host into a throw-away member; check revision, keys and KV hash; tear it down',
    source: 'etcd docs "Disaster recovery" (https://etcd.io/docs/v3.5/op-guide/recovery/); reference 002 (test the backups)',
    run: async () => {
      const d = (await long.drillNewestCopy(base)).result;
      result = d;
      return `${d.host}:${d.backup} ${d.passed ? 'PASSED' : 'FAILED'} in ${(d.totalMs / 1000).toFixed(1)} s${d.found ? ` (revision ${d.found.revision}, ${d.found.keys} keys)` : ''}`;
    },
  };
  tracker.setSteps(planOf([phase]));
  // The drill never touches the cluster's members: its projection is the cluster as it is.
  if (input.dryRun) return planOnly(tracker, [phase], { voters: 0, serving: 0 });
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, [phase], () => 'nothing was changed');
  const r = result!;
  if (!r.passed) {
    tracker.progress.outcome = 'failed';
    tracker.progress.message = `restore drill FAILED for ${r.host}:${r.backup}: ${r.problems.join('; ')}`;
    throw ApplicationFailure.nonRetryable(tracker.progress.message, 'DrillFailed', r);
  }
  tracker.progress.outcome = 'completed';
  return r;
}
