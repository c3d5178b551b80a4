import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities, DoctorRow } from '../activities';
import { NameSchema } from '../domain/inputs';

const reads = proxyActivities<Activities>({
  startToCloseTimeout: '3 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 2 },
});

/**
 * `doctor` through the worker (the only process holding the SSH keys): every node of the inventory
 * checked before any runbook, one row per check with its fix. Changes nothing.
 */
export async function clusterDoctor(input: { cluster: string; inventoryDigest?: string }): Promise<DoctorRow[]> {
  const name = NameSchema.safeParse(input?.cluster);
  if (!name.success) throw ApplicationFailure.nonRetryable(`invalid clusterDoctor input: cluster: ${name.error.issues[0].message}`, 'InvalidInput');
  return (await reads.doctorCluster({ cluster: input.cluster, ...(input.inventoryDigest ? { inventoryDigest: input.inventoryDigest } : {}) })).result;
}
