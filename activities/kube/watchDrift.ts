import { kubeDrift } from '../../domain/kubeSync';
import { controlPlaneNames } from '../../inventory/schema';
import type { ClusterOps } from '../cluster';
import { rethrowCancellation } from '../errors';
import { kubeState } from './state';

/** How long a cluster's control-plane drift is reused (ms): a kube-sync shows as done within this. */
export const KUBE_DRIFT_TTL_MS = 2 * 60_000;

const cache = new Map<string, { at: number; drift: string[] }>();

/**
 * The control plane's drift from the voting members for the watch (domain/kubeSync.ts kubeDrift:
 * the kubeadm-config ConfigMap, each kubeadm config file and running kube-apiserver), read at most
 * every KUBE_DRIFT_TTL_MS per cluster; at most 10 lines of 200 characters (the history stays
 * small). Undefined when the inventory names no control plane, or the read failed. Read-only.
 */
export async function watchKubeDrift(ops: ClusterOps, now = Date.now()): Promise<string[] | undefined> {
  if (!controlPlaneNames(ops.inv).length) return undefined;
  const hit = cache.get(ops.inv.cluster);
  if (hit && now - hit.at < KUBE_DRIFT_TTL_MS) return hit.drift;
  try {
    const drift = kubeDrift(await kubeState(ops)).slice(0, 10).map((l) => l.slice(0, 200));
    cache.set(ops.inv.cluster, { at: now, drift });
    return drift;
  } catch (e) {
    rethrowCancellation(e);
    return undefined;
  }
}
