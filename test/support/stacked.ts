import { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { lab } from './lab';

/** kubeadm's etcd CA and apiserver-etcd-client pair on a stacked lab, read from `via`, as etcd3 credentials. */
export function stackedCredentials(via = 'node1') {
  const read = (f: string) => Buffer.from(lab('ssh', via, `cat /etc/kubernetes/pki/${f}`));
  return { rootCertificate: read('etcd/ca.crt'), certChain: read('apiserver-etcd-client.crt'), privateKey: read('apiserver-etcd-client.key') };
}

/** An etcd client of the test's own for a stacked lab (stackedCredentials). */
export function stackedClient(inv: Inventory, node: string, via = 'node1'): Etcd3 {
  return new Etcd3({ hosts: inv.nodes.find((n) => n.name === node)!.etcd.clientURL, credentials: stackedCredentials(via), dialTimeout: 3000 });
}

/** The running etcd container's argv on a stacked lab node (read with ctr by the test), or undefined. */
export function runningEtcdArgs(node: string): string[] | undefined {
  const out = lab('ssh', node, `for id in $(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==etcd'); do
      ctr -n k8s.io tasks ls | awk -v id="$id" '$1 == id && $3 == "RUNNING" { found = 1 } END { exit !found }' || continue
      ctr -n k8s.io containers info "$id"; exit 0; done`).trim();
  if (!out) return undefined;
  return (JSON.parse(out) as { Spec: { process: { args: string[] } } }).Spec.process.args;
}

/** An answer "NotFound" the probe saw: which apiserver, when, and kubectl's message. */
export interface NotFoundAnswer { endpoint: string; at: string; message: string }

/**
 * Asks every endpoint once a second for an object the snapshot holds (`kubectl get configmap NAME`)
 * while a runbook runs. `missing`: answers that the object does not exist (`configmaps "NAME" not
 * found`), i.e. an apiserver serving an etcd that lacks it (empty, or not yet restored). `routes`:
 * other NotFound answers (`the server could not find the requested resource`: an apiserver whose
 * routes are not installed yet, as while it starts), which say nothing of etcd's data. Both are
 * kept with endpoint, time and message. Errors (no apiserver, no etcd) are neither.
 */
export function notFoundProbe(endpoints: string[], name: string, kubectl: (args: string[], server?: string) => Promise<string>) {
  const missing: NotFoundAnswer[] = [];
  const routes: NotFoundAnswer[] = [];
  let asked = 0;
  let stopped = false;
  const objectMissing = new RegExp(`configmaps? "${name}" not found`);
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      await Promise.all(endpoints.map((endpoint) => kubectl(['-n', 'default', 'get', 'configmap', name, '-o', 'name'], endpoint).then(() => undefined, (err: Error) => {
        if (!/NotFound|not found/.test(err.message)) return;
        const answer = { endpoint, at: new Date().toISOString(), message: err.message.trim().split('\n').slice(-1)[0].slice(0, 300) };
        (objectMissing.test(err.message) ? missing : routes).push(answer);
      }).finally(() => { asked++; })));
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();
  return { async stop() { stopped = true; await loop; return { asked, missing, routes }; } };
}
