import { desiredEndpoints, type ControlPlaneState, type KubeState } from '../../domain/kubeSync';
import { controlPlaneNames } from '../../inventory/schema';
import type { ClusterOps } from '../cluster';
import { clusterState } from '../etcd/reads';
import { SshError } from '../ssh/session';
import { apiserverReady, manifestEndpoints, runningApiserver } from './apiserver';
import { configMapEndpoints, fileEndpoints } from './config';

/** One control-plane node's running apiserver, readiness, kubeadm config file and manifest. Read-only. */
export async function controlPlaneState(ops: ClusterOps, node: string): Promise<ControlPlaneState> {
  try {
    const apiserver = await runningApiserver(ops, node);
    const ready = await apiserverReady(ops, node, apiserver);
    const manifest = await manifestEndpoints(ops, node);
    let file: string[] | undefined;
    let error: string | undefined;
    try {
      file = await fileEndpoints(ops, node);
    } catch (e) {
      error = (e as Error).message;
    }
    return { node, reachable: true, ready, ...(apiserver ? { apiserver } : {}), ...(file ? { fileEndpoints: file } : {}), ...(manifest ? { manifestEndpoints: manifest } : {}), ...(error ? { error } : {}) };
  } catch (e) {
    if (e instanceof SshError || (e as Error).name === 'SshError') return { node, reachable: false, ready: false, error: (e as Error).message };
    throw e;
  }
}

/**
 * The control plane's view of etcd next to the member list: the endpoints the voting members
 * offer, the kubeadm-config ConfigMap (read through a ready apiserver) and every control-plane
 * node. `enabled` is false when the inventory has no `kubernetes` section. Read-only.
 */
export async function kubeState(ops: ClusterOps): Promise<KubeState> {
  const names = controlPlaneNames(ops.inv);
  if (!names.length) return { enabled: false, desired: [], nodes: [] };
  // Read while etcd is down too (restore, recover-quorum): then nothing is desired yet.
  const desired = await clusterState(ops).then((s) => desiredEndpoints(s.members), () => []);
  const nodes: ControlPlaneState[] = [];
  for (const node of names) nodes.push(await controlPlaneState(ops, node));
  const via = nodes.find((n) => n.ready);
  let configMap: KubeState['configMap'];
  if (via) {
    try {
      configMap = { endpoints: await configMapEndpoints(ops, via.node) };
    } catch (e) {
      configMap = { error: (e as Error).message.slice(0, 300) };
    }
  } else configMap = { error: 'no kube-apiserver is ready to read it through' };
  return { enabled: true, desired, configMap, nodes };
}
