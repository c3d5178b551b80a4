import { join } from 'node:path';
import { pipeTable, readResults } from './pipeTable';

/** One runbook on a kubeadm lab (test/e2e/kubeadm.test.ts, and stacked.test.ts as `stacked <runbook>`; written by recordKubeRun). */
export interface KubeRow { runbook: string; seconds: number; apiserverRestarts: number; kubectlCalls: number; failedKubectl: number; secondsAllDown: number }

/** runbook -> wall time, apiserver restarts, /readyz calls failed of made, seconds no endpoint answered. */
export function formatKubeTable(rows: KubeRow[]): string {
  return pipeTable(['runbook', 'seconds', 'apiserver restarts', 'failed kubectl /readyz', 'seconds with no apiserver'],
    rows.map((r) => [r.runbook, r.seconds.toFixed(1), String(r.apiserverRestarts), `${r.failedKubectl} of ${r.kubectlCalls}`, String(r.secondsAllDown)]));
}

if (require.main === module) {
  const dir = process.argv[2] ?? join(__dirname, '..', '..', '.state', 'kube-matrix');
  const order = ['expand', 'migrate', 'replace', 'restore', 'kube-sync'];
  const all = readResults<KubeRow>(dir);
  const rows = all.filter((r) => !r.runbook.startsWith('stacked ')).sort((a, b) => order.indexOf(a.runbook) - order.indexOf(b.runbook));
  if (rows.length) console.log(`kubeadm control plane (external etcd, 2 control planes, a kubectl /readyz client on each every second):\n${formatKubeTable(rows)}`);
  const stacked = all.filter((r) => r.runbook.startsWith('stacked ')).sort((a, b) => a.runbook.localeCompare(b.runbook));
  if (stacked.length) {
    console.log(`stacked etcd (runtime kubeadm, etcd as static pods; a kubectl /readyz client on the control planes the runbook keeps, every second):\n${pipeTable(['runbook', 'seconds', 'failed kubectl /readyz', 'seconds with no apiserver'],
      stacked.map((r) => [r.runbook.replace(/^stacked /, ''), r.seconds.toFixed(1), `${r.failedKubectl} of ${r.kubectlCalls}`, String(r.secondsAllDown)]))}`);
  }
}
