import { parseApiserverArgs, type RunningApiserver } from '../../domain/kubeSync';
import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { setManifestAnnotation } from '../runtime/manifest';

const SEPARATOR = '----etcd-runbooks----';

/**
 * The kube-apiserver container that runs on a control-plane node, read from containerd (the CRI
 * runtime kubelet uses): containers labelled io.kubernetes.container.name=kube-apiserver whose task
 * is RUNNING, with the argv of their OCI spec. Not the manifest: kubelet may not have applied it yet.
 * Undefined when none runs; the newest when two briefly overlap. Needs containerd's `ctr`.
 */
export async function runningApiserver(ops: ClusterOps, node: string): Promise<RunningApiserver | undefined> {
  const r = await ops.runOk(node, shScript(`
    running=$(ctr -n k8s.io tasks ls | awk '$3 == "RUNNING" { print $1 }')
    for id in $(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==kube-apiserver'); do
      if printf '%s\\n' "$running" | grep -qx "$id"; then ctr -n k8s.io containers info "$id"; echo "$1"; fi
    done`, SEPARATOR), { timeoutMs: 30_000 });
  const found: RunningApiserver[] = r.stdout.split(SEPARATOR).map((s) => s.trim()).filter(Boolean).map((s) => {
    const info = JSON.parse(s) as { ID: string; CreatedAt: string; Spec?: { process?: { args?: string[] } } };
    return { containerId: info.ID, createdAt: info.CreatedAt, ...parseApiserverArgs(info.Spec?.process?.args ?? []) };
  });
  return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
}

/**
 * GET /readyz of the node's apiserver with the node's kubectl and kubeconfig, at the address and
 * port the running apiserver advertises (a name its serving certificate holds). True for "ok".
 */
export async function apiserverReady(ops: ClusterOps, node: string, api: RunningApiserver | undefined): Promise<boolean> {
  if (!api?.advertiseAddress) return false;
  const kubeconfig = ops.inv.kubernetes?.kubeconfig ?? (ops.inv.runtime === 'kubeadm' ? ops.inv.kubeadm.kubeconfig : undefined);
  if (!kubeconfig) return false;
  const host = api.advertiseAddress.includes(':') ? `[${api.advertiseAddress}]` : api.advertiseAddress;
  const r = await ops.run(node, ['kubectl', `--kubeconfig=${kubeconfig}`, `--server=https://${host}:${api.securePort ?? 6443}`, '--request-timeout=3s', 'get', '--raw', '/readyz'], { timeoutMs: 15_000 });
  return r.exitCode === 0 && r.stdout.trim() === 'ok';
}

/** --etcd-servers of the kube-apiserver static pod manifest on disk (undefined if there is none). */
export async function manifestEndpoints(ops: ClusterOps, node: string): Promise<string[] | undefined> {
  const k = ops.inv.kubernetes;
  if (!k) return undefined;
  const r = await ops.run(node, ['grep', '-o', '\\-\\-etcd-servers=[^"[:space:]]*', `${k.manifestsDir}/kube-apiserver.yaml`]);
  if (r.exitCode !== 0) return undefined;
  return parseApiserverArgs([r.stdout.trim()]).etcdServers;
}

/** How long kubelet gets to replace a restarted apiserver and the new one to pass /readyz. */
const RESTART_TIMEOUT_MS = 3 * 60_000;

/**
 * Restarts the node's kube-apiserver static pod so that it reads its certificate files again
 * (it loads its etcd client certificate at start): an annotation `etcd-runbooks/restarted-at`
 * written into its manifest (a new content is a new pod to kubelet), then a wait until another
 * apiserver container runs and answers /readyz. Returns the seconds that took.
 * Source: kubeadm docs "Certificate Management with kubeadm" (restart the control plane pods
 * after a manual renewal).
 */
export async function restartApiserver(ops: ClusterOps, node: string, manifestsDir: string): Promise<{ seconds: number }> {
  const before = await runningApiserver(ops, node);
  const path = `${manifestsDir}/kube-apiserver.yaml`;
  const text = (await ops.runOk(node, ['cat', '--', path])).stdout;
  const started = Date.now();
  await ops.runOk(node, shScript('umask 077; t="$1/.kube-apiserver.yaml.etcd-runbooks"; cat > "$t" && mv -f "$t" "$2"', manifestsDir, path),
    { stdin: setManifestAnnotation(text, 'etcd-runbooks/restarted-at', new Date().toISOString()) });
  let last = '';
  await ops.waitFor(`${node}: kube-apiserver restarted and ready`, RESTART_TIMEOUT_MS, 1_000, async () => {
    const api = await runningApiserver(ops, node);
    if (!api || api.containerId === before?.containerId) { last = 'kubelet has not replaced it yet'; return undefined; }
    if (!(await apiserverReady(ops, node, api))) { last = `apiserver ${api.containerId.slice(0, 12)} not ready yet`; return undefined; }
    return true;
  }, () => last);
  return { seconds: Math.round((Date.now() - started) / 100) / 10 };
}
