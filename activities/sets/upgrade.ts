import { parseVersion } from '../../domain/etcdVersion';
import { PreconditionError } from '../errors';
import { writeConfigMapEtcdImageTag } from '../kube/config';
import { manifestImage } from '../runtime/manifest';
import { memberStatuses } from '../etcd/reads';
import { rollbackMember, upgradeMember, upgradeReport } from '../etcd/upgrade';
import { clusterVersion } from '../etcd/version';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';
import { type NodeInput } from './common';

/** The activities of rolling upgrades: the pre-flight read, one member up, one member back, the cluster version. */
export function upgradeActivities(deps: ActivityDeps) {
  return {
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

    /**
     * Stacked etcd: sets the kubeadm-config ConfigMap's etcd.local.imageTag to the tag the node's
     * etcd manifest now runs (it must be of etcd `version`), so that the control-plane nodes kubeadm
     * joins later run etcd `version` too, not the tag the cluster was made with. Idempotent.
     * Source: kubeadm config API v1beta4 (ClusterConfiguration.etcd.local.imageTag).
     */
    recordEtcdImageTag: clusterActivity(deps, async (ops, input: NodeInput & { version: string }) => {
      const path = `${ops.inv.kubeadm.manifestsDir}/etcd.yaml`;
      const image = manifestImage((await ops.runOk(input.node, ['cat', '--', path])).stdout, `${input.node}:${path}`);
      const tag = /:([^:/@]+)$/.exec(image.replace(/@.*$/, ''))?.[1] ?? '';
      if (!tag.replace(/^v/, '').startsWith(input.version)) throw new PreconditionError(`${input.node}: ${path} runs ${image}, not an image of etcd ${input.version}`);
      return { tag, ...(await writeConfigMapEtcdImageTag(ops, input.node, tag)) };
    }),
  };
}
