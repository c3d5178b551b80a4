import { watchProbe } from '../etcd/watchProbe';
import { temporalFacts } from '../etcd/watchTemporalFacts';
import { watchKubeDrift } from '../kube/watchDrift';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';

/** The activities of a cluster's watch (workflows/watchCluster.ts). */
export function watchActivities(deps: ActivityDeps) {
  return {
    /**
     * One read-only watch probe (etcd/watchProbe.ts), with what Temporal says of the cluster (a run
     * going on, the recovery point: etcd/watchTemporalFacts.ts) and the control plane's drift
     * (kube/watchDrift.ts); not journaled, its commands not kept.
     */
    probeWatch: clusterActivity(deps, async (ops, input: ClusterInput & { members: string[] }) => {
      const [r, t, kubeDrift] = await Promise.all([watchProbe(ops, input.members), deps.temporal ? temporalFacts(deps.temporal, ops.inv) : {}, watchKubeDrift(ops)]);
      return r.probe.error ? r : { ...r, probe: { ...r.probe, ...t, ...(kubeDrift ? { kubeDrift } : {}) } };
    }, { probe: true }),
  };
}
