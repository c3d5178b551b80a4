import { stillOverQuota } from '../../domain/defrag';
import { PreconditionError } from '../errors';
import { checkWrites, disarmNoSpace } from '../etcd/alarms';
import { defragMember, defragReport } from '../etcd/defrag';
import { memberStatuses, ownURLs } from '../etcd/reads';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';
import { checkTag, type NodeInput } from './common';

/** The activities of routine maintenance: defragmentation, the NOSPACE alarm, a write check. */
export function maintenanceActivities(deps: ActivityDeps) {
  return {
    /** Each voting member's db size, size in use, quota and data dir free disk; the alarms. Read-only (etcd/defrag.ts). */
    inspectDefrag: clusterActivity(deps, (ops) => defragReport(ops)),

    /** Online defragmentation of one member, leadership moved off it first, then waits until it serves again (etcd/defrag.ts). */
    defragMember: clusterActivity(deps, (ops, input: NodeInput & { minFreePercent: number; noSpace: boolean; offline?: boolean }) =>
      defragMember(ops, input.node, input.minFreePercent, input.noSpace, input.offline ?? false)),

    /**
     * Disarms a NOSPACE alarm once every voting member's file is below the disarm line of its quota
     * (domain/defrag.ts), else PreconditionError naming each member over it; never with a CORRUPT
     * alarm raised. Source: etcd docs "Maintenance: Space quota".
     */
    disarmNoSpace: clusterActivity(deps, async (ops) => {
      const report = await defragReport(ops);
      const over = stillOverQuota(report.members);
      if (report.alarms.noSpace.length && over.length) throw new PreconditionError(`NOSPACE stays armed: ${over.join('; ')}`);
      const serving = ops.inv.nodes.filter((n) => report.members.some((m) => m.serving && m.node === n.name)).map((n) => n.etcd.clientURL);
      return disarmNoSpace(ops, (await memberStatuses(ops)).view.control, serving);
    }),

    /** A put (60 s lease), read back, delete under `etcd-runbooks/write-check/<tag>` (etcd/alarms.ts). */
    checkWrites: clusterActivity(deps, async (ops, input: ClusterInput & { tag: string }) => {
      checkTag(input.tag);
      const { view } = await memberStatuses(ops);
      return checkWrites(ops, view.control, ownURLs(view, view.members.filter((m) => !m.isLearner)), input.tag);
    }),
  };
}
