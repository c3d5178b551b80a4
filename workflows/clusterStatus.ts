import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, ClusterState } from '../activities';
import { NameSchema } from '../domain/inputs';

const reads = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 3 },
});

/** Reads members, leader, raft index, db size and health of every member. Changes nothing. Source: reference 000 §3. */
export async function clusterStatus(input: { cluster: string; inventoryDigest?: string }): Promise<ClusterState> {
  const name = NameSchema.safeParse(input?.cluster);
  if (!name.success) throw ApplicationFailure.nonRetryable(`invalid clusterStatus input: cluster: ${name.error.issues[0].message}`, 'InvalidInput');
  return (await reads.inspectCluster(input)).result;
}
