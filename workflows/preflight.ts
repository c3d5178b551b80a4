import { patched } from '@temporalio/workflow';
import { reads, type Base } from './proxies';

/** Patch id: the first pre-flight reads of expand, replace and migrate run in parallel. */
export const PARALLEL_PREFLIGHT = 'parallel-preflight';

/**
 * The first pre-flight reads of a membership change, all read-only and independent of each other:
 * the cluster (members, statuses, health, version: `inspectCluster`), every member's liveness asked
 * of etcd with SSH judged apart (`probeLiveness`), and the readiness of `nodes` (`inspectNodes`).
 * Shape: `{ state, liveness, readiness }`, readiness in the order of `nodes`. In parallel for runs
 * that record PARALLEL_PREFLIGHT (about 0.1 s less on the 2-core lab: the reads slow each other); one after another, as before, for
 * runs started earlier. Source: reference 000 §5 (check the cluster before changing it).
 */
export async function preflightReads(base: Base, nodes: string[]) {
  if (patched(PARALLEL_PREFLIGHT)) {
    const [state, liveness, readiness] = await Promise.all([reads.inspectCluster(base), reads.probeLiveness(base), reads.inspectNodes({ ...base, nodes })]);
    return { state: state.result, liveness: liveness.result, readiness: readiness.result };
  }
  const state = (await reads.inspectCluster(base)).result;
  const liveness = (await reads.probeLiveness(base)).result;
  const readiness = (await reads.inspectNodes({ ...base, nodes })).result;
  return { state, liveness, readiness };
}
