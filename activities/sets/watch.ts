import { watchProbe } from '../etcd/watchProbe';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';

/** The activities of a cluster's watch (workflows/watchCluster.ts). */
export function watchActivities(deps: ActivityDeps) {
  return {
    /** One read-only watch probe (etcd/watchProbe.ts); not journaled, its commands not kept (a probe every 15 s). */
    probeWatch: clusterActivity(deps, (ops, input: ClusterInput & { members: string[] }) => watchProbe(ops, input.members), { probe: true }),
  };
}
