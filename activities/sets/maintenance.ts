import { stillOverQuota } from '../../domain/defrag';
import { PreconditionError } from '../errors';
import { checkWrites, disarmNoSpace } from '../etcd/alarms';
import { defragMember, defragReport } from '../etcd/defrag';
import { memberStatuses } from '../etcd/reads';
import { rollbackMember, upgradeMember, upgradeReport } from '../etcd/upgrade';
import { clusterVersion } from '../etcd/version';
import { parseVersion } from '../../domain/etcdVersion';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';
import { checkTag, type NodeInput } from './common';

/** The activities of routine maintenance: defragmentation, the NOSPACE alarm, a write check, rolling upgrades. */
export function maintenanceActivities(deps: ActivityDeps) {
  return {
    /** Each voting member's db size, size in use, quota and data dir free disk; the alarms. Read-only (etcd/defrag.ts). */
    inspectDefrag: clusterActivity(deps, (ops) => defragReport(ops)),

    /** Online defragmentation of one member, leadership moved off it first, then waits until it serves again (etcd/defrag.ts). */
    defragMember: clusterActivity(deps, (ops, input: NodeInput & { minFreePercent: number; noSpace: boolean }) =>
      defragMember(ops, input.node, input.minFreePercent, input.noSpace)),

    /**
     * Disarms a NOSPACE alarm once every voting member's file is below the disarm line of its quota
     * (domain/defrag.ts), else PreconditionError naming each member over it; never with a CORRUPT
     * alarm raised. Source: etcd docs "Maintenance: Space quota".
     */
    disarmNoSpace: clusterActivity(deps, async (ops) => {
      const report = await defragReport(ops);
      const over = stillOverQuota(report.members);
      if (report.alarms.noSpace.length && over.length) throw new PreconditionError(`NOSPACE stays armed: ${over.join('; ')}`);
      const serving = report.members.filter((m) => m.serving).map((m) => ops.node(m.node).etcd.clientURL);
      return disarmNoSpace(ops, (await memberStatuses(ops)).view.control, serving);
    }),

    /** Each voting member's version, leadership and health, and what keeps a node from running `version`. Read-only (etcd/upgrade.ts). */
    inspectUpgrade: clusterActivity(deps, (ops, input: ClusterInput & { version: string }) => upgradeReport(ops, input.version)),

    /** Stop, point at the release, start, wait caught up: one member to etcd `version` (etcd/upgrade.ts). */
    upgradeMember: clusterActivity(deps, (ops, input: NodeInput & { version: string }) => upgradeMember(ops, input.node, input.version)),

    /** Undoes upgradeMember(node, version): back on the release it ran before, serving and caught up (etcd/upgrade.ts). */
    rollbackMember: clusterActivity(deps, (ops, input: NodeInput & { version: string }) => rollbackMember(ops, input.node, input.version)),

    /**
     * Waits (up to 60 s) until etcd reports the cluster version `X.Y.0` of `version` on /version: the
     * leader raises it once every member runs the new minor. Source: etcd docs "Upgrade etcd from
     * 3.5 to 3.6" (the cluster version follows the lowest member's).
     */
    waitClusterVersion: clusterActivity(deps, async (ops, input: ClusterInput & { version: string }) => {
      const want = parseVersion(input.version);
      const minor = want ? `${want.major}.${want.minor}.0` : input.version;
      let seen = '';
      return ops.waitFor(`cluster version ${minor}`, 60_000, 1_000, async () => {
        const { view, statuses } = await memberStatuses(ops);
        const cv = await clusterVersion(ops, view.control, statuses.map((s) => s.endpoint), [], 1);
        seen = cv ? `${cv.version} (${cv.source})` : 'unknown';
        return cv?.source === 'etcd' && cv.version === minor ? { clusterVersion: cv.version } : undefined;
      }, () => `last seen ${seen}`);
    }),

    /** A put (60 s lease), read back, delete under `etcd-runbooks/write-check/<tag>` (etcd/alarms.ts). */
    checkWrites: clusterActivity(deps, async (ops, input: ClusterInput & { tag: string }) => {
      checkTag(input.tag);
      const { view } = await memberStatuses(ops);
      return checkWrites(ops, view.control, view.members.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs), input.tag);
    }),
  };
}
