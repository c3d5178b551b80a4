import type { ClusterOps } from '../cluster';
import { kubeadmRuntime } from './kubeadm';
import { systemdRuntime } from './systemd';
import type { MemberRuntime } from './types';

export type { MemberRuntime, MemberConfigChange, ForceNewClusterFlag } from './types';

const cache = new WeakMap<ClusterOps, MemberRuntime>();

/** The member runtime the inventory names (`runtime: systemd | kubeadm`), one per activity attempt. */
export function runtimeOf(ops: ClusterOps): MemberRuntime {
  let r = cache.get(ops);
  if (!r) cache.set(ops, (r = ops.inv.runtime === 'kubeadm' ? kubeadmRuntime(ops) : systemdRuntime(ops)));
  return r;
}
