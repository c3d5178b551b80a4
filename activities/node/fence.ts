import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { serviceState } from './service';

/**
 * Fences the node's etcd: stopped, disabled, and masked until reboot (`mask --runtime`), so nothing
 * (a boot, a config tool, an operator) starts an etcd on an empty or stale data dir while a restore
 * or recovery runs. `startService` unmasks. Idempotent. Source: reference 003 (etcd must not come up
 * before the restore, or Kubernetes takes the empty state as desired); 000 §8.4 (stop all etcd).
 */
export async function fenceService(ops: ClusterOps, node: string): Promise<{ service: string }> {
  const unit = ops.inv.systemd.unit;
  await ops.runOk(node, shScript('systemctl disable --now --quiet "$1" && systemctl mask --runtime --quiet "$1"', unit), { timeoutMs: 100_000 });
  return { service: await serviceState(ops, node) };
}
