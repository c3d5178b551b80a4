import type { NodeShell } from '../runtime/discover';
import { shScript } from '../ssh/quote';
import { readExternalEndpoints } from './kubeadmConfig';

/** What a kubeadm control plane says about its etcd, read with kubectl on one of its nodes. */
export interface KubeTopology {
  /** etcd.external.endpoints of the kubeadm-config ConfigMap; empty for stacked (local) etcd. */
  externalEndpoints: string[];
  /** Control-plane nodes (label node-role.kubernetes.io/control-plane): name and InternalIP. */
  controlPlanes: Array<{ name: string; address: string }>;
}

/** kubeadm config files a control-plane node may keep, in the order looked for (BCM's first: reference 000 §6). */
const KUBEADM_CONFIG_CANDIDATES = 'ls -1 /root/.kube/kubeadm-init-*.yaml /etc/kubernetes/kubeadm-config.yaml /etc/kubernetes/kubeadm.yaml 2>/dev/null | while read -r f; do grep -q "kind: ClusterConfiguration" "$f" && echo "$f"; done; true';

/**
 * Reads the control plane's view on a node with `kubeconfig` (kubeadm's admin.conf): the
 * kubeadm-config ConfigMap's external etcd endpoints and the control-plane nodes. Undefined when
 * the node has no such kubeconfig or kubectl does not answer (not a control-plane node).
 * Source: kubeadm docs "kubeadm init" (the kubeadm-config ConfigMap in kube-system).
 */
export async function readKubeTopology(shell: NodeShell, kubeconfig = '/etc/kubernetes/admin.conf'): Promise<KubeTopology | undefined> {
  if ((await shell(['test', '-f', kubeconfig])).exitCode !== 0) return undefined;
  const kubectl = (args: string[]) => shell(['kubectl', `--kubeconfig=${kubeconfig}`, '--request-timeout=10s', ...args]);
  const cm = await kubectl(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}']);
  if (cm.exitCode !== 0) return undefined;
  const externalEndpoints = /external:/.test(cm.stdout) ? readExternalEndpoints(cm.stdout, 'kubeadm-config ConfigMap') : [];
  const nodes = await kubectl(['get', 'nodes', '-l', 'node-role.kubernetes.io/control-plane', '-o',
    'jsonpath={range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}']);
  const controlPlanes = nodes.stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter(([n, a]) => n && a).map(([name, address]) => ({ name, address }));
  return { externalEndpoints, controlPlanes };
}

/** The kubeadm config files (with a ClusterConfiguration) on a control-plane node, BCM's first. */
export async function findKubeadmConfigFiles(shell: NodeShell): Promise<string[]> {
  return (await shell(shScript(KUBEADM_CONFIG_CANDIDATES))).stdout.split('\n').filter(Boolean);
}
