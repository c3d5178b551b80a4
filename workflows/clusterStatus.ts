import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, ClusterState, KubeState } from '../activities';
import { NameSchema } from '../domain/inputs';

const reads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 3 },
});

/**
 * Reads members, leader, raft index, db size and health of every member; with `kube`, also the
 * control plane's view (kubeadm-config, each apiserver's --etcd-servers). Changes nothing. Source: reference 000 §3, §6.
 */
export async function clusterStatus(input: { cluster: string; inventoryDigest?: string; kube?: boolean }): Promise<ClusterState & { kube?: KubeState }> {
  const name = NameSchema.safeParse(input?.cluster);
  if (!name.success) throw ApplicationFailure.nonRetryable(`invalid clusterStatus input: cluster: ${name.error.issues[0].message}`, 'InvalidInput');
  const base = { cluster: input.cluster, ...(input.inventoryDigest ? { inventoryDigest: input.inventoryDigest } : {}) };
  const state = (await reads.inspectCluster(base)).result;
  // Asked for by clients that know control planes (0.4); older clients' runs replay unchanged.
  if (input.kube) return { ...state, kube: (await reads.inspectKube(base)).result };
  return state;
}
