import { execFile } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lab, LAB_STATE } from './lab';

const run = promisify(execFile);
const KUBE = join(LAB_STATE, 'kube');

/** kubectl on the host with the lab's admin.conf, optionally against one apiserver (`server`). Throws on failure. */
export async function kubectl(args: string[], server?: string): Promise<string> {
  const { stdout } = await run(join(KUBE, 'kubectl'), [`--kubeconfig=${join(KUBE, 'admin.conf')}`, ...(server ? [`--server=${server}`] : []), '--request-timeout=3s', ...args], { encoding: 'utf8' });
  return stdout;
}

/** kubectl errors where the apiserver did not answer in time (or not at all): not an answer about the object. */
const UNANSWERED = /context deadline exceeded|Unable to connect|connection refused|Client\.Timeout|TLS handshake timeout|the server was unable to return a response|etcdserver: request timed out|\bEOF\b/;

/**
 * kubectl until an apiserver answers, for up to `seconds`: right after a restore or a quorum
 * recovery an apiserver that reports ready may still take longer than the 3 s request timeout on the
 * lab's 2 cores (seen after the stacked restore in a full run). Every answer counts at once,
 * NotFound included; only "no answer in time" is asked again. A create whose first try timed out
 * may have been applied: AlreadyExists then counts as created.
 */
export async function kubectlAnswered(args: string[], server?: string, seconds = 90): Promise<string> {
  const deadline = Date.now() + seconds * 1000;
  let unanswered = false;
  for (;;) {
    try {
      return await kubectl(args, server);
    } catch (e) {
      const msg = String((e as { stderr?: string }).stderr ?? '') + (e as Error).message;
      if (unanswered && args.includes('create') && /AlreadyExists|already exists/.test(msg)) return '';
      if (!UNANSWERED.test(msg) || Date.now() > deadline) throw e;
      unanswered = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * The running kube-apiserver of a lab control-plane node, read by the test on its own (containerd
 * on the node): container id and --etcd-servers of the RUNNING kube-apiserver task.
 */
export function runningApiserver(node: string): { id: string; etcdServers: string[] } | undefined {
  const out = lab('ssh', node, `for id in $(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==kube-apiserver'); do
      ctr -n k8s.io tasks ls | awk -v id="$id" '$1 == id && $3 == "RUNNING" { found = 1 } END { exit !found }' || continue
      ctr -n k8s.io containers info "$id" | tr -d '\\n' | grep -o '"--etcd-servers=[^"]*"' | sed "s/^/$id /"; done`).trim();
  const line = out.split('\n').filter(Boolean).pop();
  if (!line) return undefined;
  const [id, flag] = line.split(' ');
  return { id, etcdServers: flag.replace(/^"--etcd-servers=|"$/g, '').split(',').sort() };
}

/** etcd.external.endpoints of the kubeadm-config ConfigMap, sorted (read with the host's kubectl). */
export async function configMapEndpoints(): Promise<string[]> {
  const text = await kubectl(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}']);
  const m = /endpoints:\n((?:\s+- .+\n)+)/.exec(text);
  return (m ? m[1].trim().split('\n').map((l) => l.replace(/^\s*-\s*/, '').trim()) : []).sort();
}

/**
 * A client doing `kubectl get --raw /readyz` against every control-plane endpoint once a second
 * while a runbook runs: failures per endpoint, and rounds where every endpoint failed (the control
 * plane unavailable to a client that fails over).
 */
export function readyzProbe(endpoints: string[]) {
  const failures: Record<string, number> = Object.fromEntries(endpoints.map((e) => [e, 0]));
  let rounds = 0;
  let allDown = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      const ok = await Promise.all(endpoints.map((e) => kubectl(['get', '--raw', '/readyz'], e).then((o) => o.trim() === 'ok', () => false)));
      rounds++;
      ok.forEach((good, i) => { if (!good) failures[endpoints[i]]++; });
      if (ok.every((good) => !good)) allDown++;
      await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { rounds, failures, allDown, failedCalls: Object.values(failures).reduce((a, b) => a + b, 0) };
    },
  };
}

/** Writes one runbook's figures on the kubeadm lab to .state/kube-matrix/<name>.json (for the closing note). */
export function recordKubeRun(name: string, figures: Record<string, unknown>): void {
  const dir = join(LAB_STATE, '..', 'kube-matrix');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ runbook: name, ...figures }, null, 2));
  console.log(`kubeadm lab: ${name}: ${JSON.stringify(figures)}`);
}

/** `kubectl get --raw /readyz` against `server` every 2 s until it answers ok, for up to `seconds`: its last answer. */
export async function readyzWithin(server: string, seconds = 180): Promise<string> {
  let last = '';
  for (let i = 0; i < seconds / 2 && last !== 'ok'; i++) {
    last = (await kubectl(['get', '--raw', '/readyz'], server).catch((e: Error) => e.message)).trim();
    if (last !== 'ok') await new Promise((r) => setTimeout(r, 2000));
  }
  return last;
}
