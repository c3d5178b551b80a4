import { reads, type Base } from './proxies';

/**
 * The first pre-flight reads of a membership change, all read-only and independent of each other,
 * in parallel: the cluster (members, statuses, health, version: `inspectCluster`), every member's
 * liveness asked of etcd with SSH judged apart (`probeLiveness`), and the readiness of `nodes`
 * (`inspectNodes`). Shape: `{ state, liveness, readiness }`, readiness in the order of `nodes`.
 * Source: reference 000 §5 (check the cluster before changing it).
 */
export async function preflightReads(base: Base, nodes: string[]) {
  const [state, liveness, readiness] = await Promise.all([reads.inspectCluster(base), reads.probeLiveness(base), reads.inspectNodes({ ...base, nodes })]);
  return { state: state.result, liveness: liveness.result, readiness: readiness.result };
}
