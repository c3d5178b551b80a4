import { sameEndpoints } from '../../domain/kubeSync';
import { controlPlaneNames } from '../../inventory/schema';
import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { apiserverReady, manifestEndpoints, runningApiserver } from './apiserver';
import { fileEndpoints } from './config';

/** How long kubelet gets to replace the apiserver pod and the new one to pass /readyz (about 40 s seen). */
const REPLACE_TIMEOUT_MS = 5 * 60_000;
/** How long the other apiservers get to be ready before this one may go down. */
const OTHERS_READY_TIMEOUT_MS = 90_000;

export interface ApiserverRegeneration {
  node: string;
  restarted: boolean;
  oldContainer?: string;
  newContainer?: string;
  /** From the manifest write to the new apiserver's /readyz. */
  seconds?: number;
}

/**
 * Points one control-plane node's kube-apiserver at `endpoints`: `kubeadm init phase control-plane
 * apiserver --config <kubeadmConfig>` rewrites the static pod manifest from the node's kubeadm config
 * file (already holding the endpoints), kubelet replaces the pod, and the step waits until a new
 * apiserver container runs with exactly these --etcd-servers and answers /readyz.
 * Idempotent: nothing is done when the running apiserver already lists the endpoints and is ready;
 * the manifest is not rewritten when it already lists them (a retry after a crash only waits).
 * Never two apiservers down at once: refused (PreconditionError) unless every other control-plane
 * node's apiserver is ready (waited for up to 90 s). Source: reference 000 §6 (`update_apiserver`);
 * kubeadm docs "kubeadm init phase control-plane".
 */
export async function regenerateApiserver(ops: ClusterOps, node: string, endpoints: string[]): Promise<ApiserverRegeneration> {
  const k = ops.inv.kubernetes;
  if (!k) throw new PreconditionError('the inventory has no kubernetes section');
  const before = await runningApiserver(ops, node);
  if (before && sameEndpoints(before.etcdServers, endpoints) && (await apiserverReady(ops, node, before))) return { node, restarted: false, oldContainer: before.containerId };
  const file = await fileEndpoints(ops, node);
  if (!sameEndpoints(file, endpoints)) throw new PreconditionError(`${node}: ${k.kubeadmConfig} lists ${file.join(',')}, not ${endpoints.join(',')}; write the kubeadm config file first`);

  const others = controlPlaneNames(ops.inv).filter((n) => n !== node);
  let waiting = '';
  await ops.waitFor(`${node}: the other kube-apiservers ready before this one restarts`, OTHERS_READY_TIMEOUT_MS, 2_000, async () => {
    const notReady: string[] = [];
    for (const other of others) {
      const ready = await runningApiserver(ops, other).then((a) => apiserverReady(ops, other, a)).catch(() => false);
      if (!ready) notReady.push(other);
    }
    waiting = notReady.join(', ');
    return notReady.length === 0 ? true : undefined;
  }, () => `not ready: ${waiting}`).catch((e: Error) => {
    throw new PreconditionError(`${node}: not restarting its kube-apiserver while another is down (never two at once): ${e.message}`);
  });

  const started = Date.now();
  const manifest = await manifestEndpoints(ops, node);
  if (!manifest || !sameEndpoints(manifest, endpoints)) {
    await ops.runOk(node, ['kubeadm', 'init', 'phase', 'control-plane', 'apiserver', `--config=${k.kubeadmConfig}`], { timeoutMs: 60_000 });
    const written = await manifestEndpoints(ops, node);
    if (!written || !sameEndpoints(written, endpoints)) throw new Error(`${node}: kubeadm wrote --etcd-servers=${written?.join(',') ?? '(none)'} into the manifest, not ${endpoints.join(',')}`);
  }
  let last = '';
  const now = await ops.waitFor(`${node}: new kube-apiserver running with the new --etcd-servers and ready`, REPLACE_TIMEOUT_MS, 2_000, async () => {
    const api = await runningApiserver(ops, node);
    if (!api) { last = 'no apiserver container running (kubelet is replacing it)'; return undefined; }
    if (!sameEndpoints(api.etcdServers, endpoints)) { last = `running apiserver still has --etcd-servers=${api.etcdServers.join(',')}`; return undefined; }
    if (!(await apiserverReady(ops, node, api))) { last = `apiserver ${api.containerId.slice(0, 12)} not ready yet`; return undefined; }
    return api;
  }, () => last);
  // The same container when only readiness was waited for (an apiserver reconnecting after a restore).
  return { node, restarted: now.containerId !== before?.containerId, ...(before ? { oldContainer: before.containerId } : {}), newContainer: now.containerId, seconds: Math.round((Date.now() - started) / 100) / 10 };
}
