import { workflowInfo } from '@temporalio/workflow';
import { CleanupInputSchema, type CleanupInput } from '../domain/inputs';
import { changes, reads } from './proxies';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { runTag, startRunbook } from './runbook';
import { votingMembers } from './clusterPhases';

export interface CleanupResult { node: string; service: string; movedTo?: string; removedDropIn: boolean }

/**
 * Finishes what a run left on a node that is not (or no longer) a member: etcd stopped and
 * disabled, a --force-new-cluster drop-in removed, a non-empty data dir moved to
 * `<dataDir>.aside-cleanup-<run>` (never deleted). Refused while the node's member is in the
 * cluster. The leftovers of a run name this verb with the node. Idempotent.
 */
export async function cleanupNode(raw: CleanupInput): Promise<CleanupResult | DryRunResult> {
  const { input, base, tracker } = startRunbook('cleanupNode', CleanupInputSchema, raw);
  let result: CleanupResult = { node: input.node, service: '', removedDropIn: false };
  const phases: Phase[] = [{
    id: `cleanup:${input.node}`, title: `${input.node}: stop and disable etcd, remove --force-new-cluster, move a non-empty data dir aside (not a member)`, node: input.node,
    source: 'reference 000 §7 (a removed member must not start again with its data); reference 004',
    run: async () => {
      const x = (await changes.cleanupNode({ ...base, node: input.node, tag: runTag('cleanup', workflowInfo().runId) })).result;
      result = { node: input.node, ...x };
      return `etcd ${x.service}${x.removedDropIn ? ', drop-in removed' : ''}${x.movedTo ? `, data dir moved to ${x.movedTo}` : ''}`;
    },
  }];
  tracker.setSteps(planOf(phases));
  if (input.dryRun) return planOnly(tracker, phases, votingMembers((await reads.inspectCluster(base)).result.members));
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  return result;
}
