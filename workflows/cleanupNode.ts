import { workflowInfo } from '@temporalio/workflow';
import { CleanupInputSchema, type CleanupInput } from '../domain/inputs';
import { changes } from './proxies';
import { runTag, startRunbook } from './runbook';

/**
 * Finishes what a run left on a node that is not (or no longer) a member: etcd stopped and
 * disabled, a --force-new-cluster drop-in removed, a non-empty data dir moved to
 * `<dataDir>.aside-cleanup-<run>` (never deleted). Refused while the node's member is in the
 * cluster. The leftovers of a run name this verb with the node. Idempotent.
 */
export async function cleanupNode(raw: CleanupInput): Promise<{ node: string; service: string; movedTo?: string; removedDropIn: boolean }> {
  const { input, base, tracker } = startRunbook('cleanupNode', CleanupInputSchema, raw);
  tracker.setSteps([{ id: `cleanup:${input.node}`, title: `${input.node}: stop and disable etcd, remove --force-new-cluster, move a non-empty data dir aside (not a member)`, node: input.node, status: 'pending' }]);
  tracker.progress.outcome = 'running';
  const r = await tracker.run(`cleanup:${input.node}`, async () => (await changes.cleanupNode({ ...base, node: input.node, tag: runTag('cleanup', workflowInfo().runId) })).result,
    (x) => `etcd ${x.service}${x.removedDropIn ? ', drop-in removed' : ''}${x.movedTo ? `, data dir moved to ${x.movedTo}` : ''}`);
  tracker.progress.outcome = 'completed';
  return { node: input.node, ...r };
}
