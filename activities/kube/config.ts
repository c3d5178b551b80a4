import { KubeadmConfigError, readExternalEndpoints, setExternalEndpoints, setLocalEtcdImageTag } from './kubeadmConfig';
import type { ClusterOps } from '../cluster';
import { lastLines, PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';

interface ConfigMapObject { data?: { ClusterConfiguration?: string }; metadata?: { resourceVersion?: string } }

function kubectl(ops: ClusterOps, args: string[]): string[] {
  return ['kubectl', `--kubeconfig=${ops.inv.kubernetes?.kubeconfig ?? ops.inv.kubeadm.kubeconfig}`, '--request-timeout=10s', ...args];
}

async function getConfigMap(ops: ClusterOps, node: string): Promise<ConfigMapObject> {
  const r = await ops.runOk(node, kubectl(ops, ['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'json']), { timeoutMs: 30_000 });
  return JSON.parse(r.stdout) as ConfigMapObject;
}

/** etcd.external.endpoints of the kubeadm-config ConfigMap (kube-system), read with kubectl on `node`. */
export async function configMapEndpoints(ops: ClusterOps, node: string): Promise<string[]> {
  const cm = await getConfigMap(ops, node);
  return readExternalEndpoints(cm.data?.ClusterConfiguration ?? '', 'kubeadm-config ConfigMap');
}

/**
 * Sets etcd.external.endpoints in the kubeadm-config ConfigMap to `endpoints` (`kubectl replace`
 * with the resourceVersion read, so a concurrent edit makes it fail and retry rather than be
 * lost). No write when it already lists them. Source: reference 000 §6 (`update_configmap`).
 */
export async function writeConfigMapEndpoints(ops: ClusterOps, node: string, endpoints: string[]): Promise<{ changed: boolean; before: string[] }> {
  const cm = await getConfigMap(ops, node);
  const text = cm.data?.ClusterConfiguration;
  if (!text || !cm.metadata?.resourceVersion) throw new PreconditionError('kubeadm-config ConfigMap has no ClusterConfiguration');
  const edit = setExternalEndpoints(text, endpoints, 'kubeadm-config ConfigMap');
  if (!edit.changed) return { changed: false, before: edit.before };
  await ops.runOk(node, kubectl(ops, ['replace', '-f', '-']), { stdin: JSON.stringify({ ...cm, data: { ...cm.data, ClusterConfiguration: edit.text } }), timeoutMs: 30_000 });
  const after = await configMapEndpoints(ops, node);
  if (after.join(',') !== endpoints.join(',')) throw new Error(`kubeadm-config ConfigMap lists ${after.join(',')} after the write`);
  return { changed: true, before: edit.before };
}

/**
 * Sets etcd.local.imageTag in the kubeadm-config ConfigMap to `tag` (stacked etcd), as
 * writeConfigMapEndpoints does (kubectl replace at the resourceVersion read). No write when it
 * already names it. Returns the tag it had (undefined: unset, kubeadm's default).
 * Source: kubeadm config API v1beta4 (ClusterConfiguration.etcd.local.imageTag).
 */
export async function writeConfigMapEtcdImageTag(ops: ClusterOps, node: string, tag: string): Promise<{ changed: boolean; before?: string }> {
  const cm = await getConfigMap(ops, node);
  const text = cm.data?.ClusterConfiguration;
  if (!text || !cm.metadata?.resourceVersion) throw new PreconditionError('kubeadm-config ConfigMap has no ClusterConfiguration');
  const edit = setLocalEtcdImageTag(text, tag, 'kubeadm-config ConfigMap');
  if (edit.changed) await ops.runOk(node, kubectl(ops, ['replace', '-f', '-']), { stdin: JSON.stringify({ ...cm, data: { ...cm.data, ClusterConfiguration: edit.text } }), timeoutMs: 30_000 });
  return { changed: edit.changed, ...(edit.before ? { before: edit.before } : {}) };
}

/** etcd.external.endpoints of the node's kubeadm config file (the inventory's kubernetes.kubeadmConfig). */
export async function fileEndpoints(ops: ClusterOps, node: string): Promise<string[]> {
  const path = ops.inv.kubernetes?.kubeadmConfig ?? '';
  const r = await ops.runOk(node, ['cat', '--', path]);
  return readExternalEndpoints(r.stdout, `${node}:${path}`);
}

/**
 * Sets etcd.external.endpoints in the node's kubeadm config file, keeping the rest. The new text is
 * written beside the file, checked with `kubeadm config validate`, then renamed over it (mode
 * 0600): a file kubeadm would refuse never replaces a good one. KubeadmConfigError if refused.
 */
export async function writeFileEndpoints(ops: ClusterOps, node: string, endpoints: string[]): Promise<{ changed: boolean; before: string[] }> {
  const path = ops.inv.kubernetes?.kubeadmConfig ?? '';
  const r = await ops.runOk(node, ['cat', '--', path]);
  const edit = setExternalEndpoints(r.stdout, endpoints, `${node}:${path}`);
  if (!edit.changed) return { changed: false, before: edit.before };
  const next = `${path}.etcd-runbooks.new`;
  await ops.runOk(node, shScript('umask 077; cat > "$1"', next), { stdin: edit.text });
  const v = await ops.run(node, ['kubeadm', 'config', 'validate', `--config=${next}`], { timeoutMs: 30_000 });
  if (v.exitCode !== 0) {
    await ops.run(node, ['rm', '-f', '--', next]);
    throw new KubeadmConfigError(`${node}: kubeadm refuses the edited ${path}, left as it was: ${lastLines(v.stderr || v.stdout, 3)}`);
  }
  await ops.runOk(node, ['mv', '-f', '--', next, path]);
  return { changed: true, before: edit.before };
}
