import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { backupCluster, clusterStatus, expandCluster, kubeSync, migrateMember, replaceMember, restoreCluster } from '../../workflows';
import { kubeDrift } from '../../domain/kubeSync';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { kubeFindings } from '../../domain/watchKube';
import { memberClient, memberNames } from '../support/etcd';
import { configMapEndpoints, kubectl, readyzProbe, recordKubeRun, runningApiserver } from '../support/kube';
import { startRun, startWorkerAndClient } from '../support/temporal';
import { discoveredNodes, discoverLab, doctorRows, labNodesOf, problems } from '../support/onboard';

jest.setTimeout(15 * 60_000);

// One kubeadm lab for the whole file, each test starting where the last ended (as an operator's
// cluster would): 4 nodes, node1 a 1-member etcd cluster; node1 and node2 kubeadm control planes
// (external etcd; node1 and node2 are etcd nodes too, like BCM's head node).
describe('kubeadm control plane (external etcd) follows every membership change', () => {
  const CONTROL_PLANES = ['node1', 'node2'];
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let clients: Record<string, Etcd3> = {};
  const client = (node: string) => (clients[node] ??= memberClient(inv, node));
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  const url = (node: string) => inv.nodes.find((n) => n.name === node)!.etcd.clientURL;
  const apiEndpoints = () => CONTROL_PLANES.map((n) => `https://${inv.nodes.find((x) => x.name === n)!.ssh.host}:6443`);

  /** Runs a runbook with the /readyz client going, and records wall time, apiserver restarts and failed kubectl calls. */
  async function measured<R>(name: string, start: () => Promise<{ result(): Promise<R> }>): Promise<R> {
    const before = Object.fromEntries(CONTROL_PLANES.map((n) => [n, runningApiserver(n)?.id]));
    const probe = readyzProbe(apiEndpoints());
    const started = Date.now();
    let r: R;
    try {
      r = await (await start()).result();
    } finally {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      const readyz = await probe.stop();
      const restarts = CONTROL_PLANES.filter((n) => runningApiserver(n)?.id !== before[n]).length;
      recordKubeRun(name, { seconds, apiserverRestarts: restarts, kubectlCalls: readyz.rounds * CONTROL_PLANES.length, failedKubectl: readyz.failedCalls, failuresPerEndpoint: readyz.failures, secondsAllDown: readyz.allDown });
      // Never two apiservers down at once: some endpoint answers in every round.
      if (name !== 'restore') expect(readyz.allDown).toBe(0);
    }
    return r!;
  }

  /** Every place the control plane keeps etcd endpoints lists exactly these members' client URLs. */
  async function expectControlPlaneUses(nodes: string[]) {
    const want = nodes.map(url).sort();
    expect(await configMapEndpoints()).toEqual(want);
    for (const cp of CONTROL_PLANES) {
      expect(runningApiserver(cp)?.etcdServers).toEqual(want);
      expect(lab('ssh', cp, 'grep -A8 "external:" /root/.kube/kubeadm-init-lab.yaml')).toContain(want[0]);
    }
    for (const e of apiEndpoints()) expect((await kubectl(['get', '--raw', '/readyz'], e)).trim()).toBe('ok');
  }

  beforeAll(async () => {
    const t = Date.now();
    inv = freshLabWith(4, 1, { controlPlanes: CONTROL_PLANES });
    console.log(`kubeadm lab: booted (4 nodes, 2 control planes, kubeadm init + join) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    Object.values(clients).forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('expand 1 -> 3: the ConfigMap, each kubeadm config file and each running apiserver list exactly the 3 members', async () => {
    await expectControlPlaneUses(['node1']);
    const r = await measured('expand', () => startRun(env, expandCluster, { ...base(), add: ['node2', 'node3'] }));
    expect(r).toMatchObject({ outcome: 'completed', voters: 3 });
    expect(await memberNames(client('node1'))).toEqual(['node1', 'node2', 'node3']);
    await expectControlPlaneUses(['node1', 'node2', 'node3']);
  });

  test('migrate node3 -> node4: the old endpoint is gone from every apiserver', async () => {
    const r = await measured('migrate', () => startRun(env, migrateMember, { ...base(), from: 'node3', to: 'node4' }));
    expect(r).toMatchObject({ from: 'node3', to: 'node4', voters: 3 });
    await expectControlPlaneUses(['node1', 'node2', 'node4']);
  });

  test('replace crashed node4 by node3: the failed endpoint is gone from every apiserver', async () => {
    lab('crash', 'node4');
    const r = await measured('replace', () => startRun(env, replaceMember, { ...base(), failed: 'node4', replacement: 'node3' }));
    expect(r).toMatchObject({ removed: 'node4', added: 'node3', voters: 3 });
    await expectControlPlaneUses(['node1', 'node2', 'node3']);
  });

  test('restore: the apiservers serve the restored data (an object from before the snapshot, none from after)', async () => {
    await kubectl(['-n', 'default', 'create', 'configmap', 'before-snapshot', '--from-literal=k=v']);
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 3 })).result();
    await kubectl(['-n', 'default', 'create', 'configmap', 'after-snapshot', '--from-literal=k=v']);
    const r = await measured('restore', () => startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, members: ['node1', 'node2', 'node3'] }));
    expect(r.revisionBump).toBeGreaterThan(0); // backsKubernetes: watchers see the compaction and relist
    Object.values(clients).forEach((c) => c.close());
    clients = {};
    // The apiservers reconnect by themselves (same endpoints); give them the time kubelet's probes take.
    let last = '';
    for (let i = 0; i < 60; i++) {
      last = await kubectl(['-n', 'default', 'get', 'configmap', 'before-snapshot', '-o', 'name']).catch((e: Error) => e.message);
      if (last.trim() === 'configmap/before-snapshot') break;
      await new Promise((res) => setTimeout(res, 2000));
    }
    expect(last.trim()).toBe('configmap/before-snapshot');
    await expect(kubectl(['-n', 'default', 'get', 'configmap', 'after-snapshot', '-o', 'name'])).rejects.toThrow(/NotFound|not found/);
    await expectControlPlaneUses(['node1', 'node2', 'node3']);
  });

  test('kube-sync: drift left by hand (ConfigMap, one kubeadm config file) shows in status and is put right without restarting an apiserver', async () => {
    const want = ['node1', 'node2', 'node3'].map(url).sort();
    const text = await kubectl(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}']);
    expect(text).toContain(`- ${want[2]}`);
    await kubectl(['-n', 'kube-system', 'patch', 'configmap', 'kubeadm-config', '--type=merge', '-p', JSON.stringify({ data: { ClusterConfiguration: text.replace(`- ${want[2]}`, `- ${url('node4')}`) } })]);
    lab('ssh', 'node2', `sed -i 's#${want[1]}#${url('node4')}#' /root/.kube/kubeadm-init-lab.yaml`);
    const status = await (await startRun(env, clusterStatus, { cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), kube: true })).result();
    expect(kubeDrift(status.kube!)).toEqual([
      `kubeadm-config ConfigMap: missing ${want[2]}; extra ${url('node4')}`,
      `node2 kubeadm config file: missing ${want[1]}; extra ${url('node4')}`,
    ]);
    // The watch judges the same lines (activities/kube/watchDrift.ts): kube-sync is proposed, nothing is only reported.
    expect(kubeFindings({ at: 0, members: [], spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [], kubeDrift: kubeDrift(status.kube!) }).map((f) => [f.key, f.propose]))
      .toEqual([['kube-drift', { runbook: 'kube-sync', fields: {} }]]);
    const r = await measured('kube-sync', () => startRun(env, kubeSync, base()));
    expect(r.driftBefore).toHaveLength(2);
    expect(r.driftAfter).toEqual([]);
    await expectControlPlaneUses(['node1', 'node2', 'node3']);
  });

  // Issue 29, Deliver 5: onboarding on the external-etcd topology, on the cluster as the runs left it.
  test('inventory discover from node1 finds the members, both control planes and BCM\'s kubeadm config file; doctor and kube-sync run on it unchanged', async () => {
    const found = await discoverLab(inv, 'node1');
    const d = found.discovered;
    expect(d.runtime).toBe('systemd');
    expect(d.backsKubernetes).toBe(true);
    expect(d.kubernetes).toEqual(inv.kubernetes);
    expect(d.tls).toEqual(inv.tls);
    expect(discoveredNodes(d)).toEqual(labNodesOf(inv, ['node1', 'node2', 'node3']));
    const second = await startWorkerAndClient([found.file]);
    try {
      const rows = await doctorRows(second, found.file);
      expect(problems(rows)).toEqual([]);
      expect(rows.filter((r) => r.check === 'control plane').map((r) => r.node)).toEqual(['node1', 'node2']);
      const want = ['node1', 'node2', 'node3'].map(url).sort();
      const text = await kubectl(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}']);
      await kubectl(['-n', 'kube-system', 'patch', 'configmap', 'kubeadm-config', '--type=merge', '-p', JSON.stringify({ data: { ClusterConfiguration: text.split('\n').filter((l) => l.trim() !== `- ${want[0]}`).join('\n') } })]);
      const r = await (await startRun(second, kubeSync, { cluster: 'lab', inventoryDigest: inventoryDigest(found.file), approvedBy: 'e2e' })).result();
      expect(r.driftBefore).toEqual([`kubeadm-config ConfigMap: missing ${want[0]}`]);
      expect(r.driftAfter).toEqual([]);
      await expectControlPlaneUses(['node1', 'node2', 'node3']);
    } finally {
      await second.stop();
    }
  });
});
