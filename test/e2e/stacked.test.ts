import type { Etcd3 } from 'etcd3';
import { WorkflowFailedError } from '@temporalio/client';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { backupCluster, expandCluster, migrateMember, moveLeader, progressQuery, recoverQuorum, replaceMember, restoreCluster } from '../../workflows';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { memberNames } from '../support/etcd';
import { kubectl, readyzWithin, kubectlAnswered, readyzProbe, recordKubeRun } from '../support/kube';
import { notFoundProbe, runningEtcdArgs, stackedClient } from '../support/stacked';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';
import { errorMessage } from '../../workflows/steps';
import { discoveredNodes, discoverLab, doctorRows, labNodesOf, problems } from '../support/onboard';

jest.setTimeout(15 * 60_000);

// One stacked lab for the whole file (reference 001's scheme), each test starting where the last
// ended: 4 kubeadm control-plane nodes, etcd as a static pod on node1..node3 (kubeadm init + two
// joins), node4 ready to join. The inventory says runtime kubeadm.
describe('stacked etcd (kubeadm static pods): the runbooks of reference 001', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let clients: Record<string, Etcd3> = {};
  const client = (node: string) => (clients[node] ??= stackedClient(inv, node));
  const resetClients = () => { Object.values(clients).forEach((c) => c.close()); clients = {}; };
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  const api = (node: string) => `https://${inv.nodes.find((n) => n.name === node)!.ssh.host}:6443`;

  async function measured<R>(name: string, nodes: string[], start: () => Promise<{ result(): Promise<R> }>): Promise<R> {
    const probe = readyzProbe(nodes.map(api));
    const started = Date.now();
    try {
      return await (await start()).result();
    } finally {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      const readyz = await probe.stop();
      recordKubeRun(`stacked ${name}`, { seconds, apiserverRestarts: 0, kubectlCalls: readyz.rounds * nodes.length, failedKubectl: readyz.failedCalls, failuresPerEndpoint: readyz.failures, secondsAllDown: readyz.allDown });
    }
  }

  /** Every control-plane node's apiserver answers /readyz (they reconnect to their local member by themselves). */
  async function expectReady(nodes: string[]) {
    for (const n of nodes) expect(`${n}: ${await readyzWithin(api(n))}`).toBe(`${n}: ok`);
  }


  /** The members are exactly `nodes`, each etcd container runs without --force-new-cluster, and an object made before is there. */
  async function expectStacked(nodes: string[], object: string) {
    expect(await memberNames(client(nodes[0]))).toEqual(nodes);
    for (const n of nodes) expect(runningEtcdArgs(n)?.some((a) => a.startsWith('--force-new-cluster'))).toBe(false);
    await expectReady(nodes);
    expect((await kubectlAnswered(['-n', 'default', 'get', 'configmap', object, '-o', 'name'], api(nodes[0]))).trim()).toBe(`configmap/${object}`);
  }

  beforeAll(async () => {
    const t = Date.now();
    inv = freshLabWith(4, 3, { stacked: true });
    console.log(`stacked lab: booted (4 nodes, kubeadm init + 2 control-plane joins) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    resetClients();
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('restore on every control plane: manifests moved out, data dirs restored, manifests back; the apiservers serve the snapshot', async () => {
    expect(inv.runtime).toBe('kubeadm');
    await kubectl(['-n', 'default', 'create', 'configmap', 'before-snapshot', '--from-literal=k=v']);
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 3 })).result();
    await kubectl(['-n', 'default', 'create', 'configmap', 'after-snapshot', '--from-literal=k=v']);
    const objects = notFoundProbe(['node1', 'node2', 'node3'].map(api), 'before-snapshot', kubectl);
    const r = await measured('restore', ['node1', 'node2', 'node3'], () => startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, members: ['node1', 'node2', 'node3'] }));
    const seen = await objects.stop();
    console.log(`stacked restore: ${seen.asked} reads of an object in the snapshot; the object missing: ${seen.missing.length}; other NotFound: ${seen.routes.length}${[...seen.missing, ...seen.routes].map((a) => `\n  ${a.at} ${a.endpoint}: ${a.message}`).join('')}`);
    expect(seen.missing).toEqual([]); // no apiserver ever served an etcd without the snapshot's data
    expect(r.revisionBump).toBeGreaterThan(0);
    resetClients();
    await expectStacked(['node1', 'node2', 'node3'], 'before-snapshot');
    await expect(kubectlAnswered(['-n', 'default', 'get', 'configmap', 'after-snapshot', '-o', 'name'])).rejects.toThrow(/NotFound|not found/);
    expect(lab('ssh', 'node2', 'ls /etc/kubernetes/etcd-runbooks-fenced/ 2>/dev/null | wc -l').trim()).toBe('0');
  });

  test('quorum loss: node2 and node3 lose power; --force-new-cluster in node1\'s manifest, verified in its container, removed; both re-added', async () => {
    await kubectlAnswered(['-n', 'default', 'create', 'configmap', 'before-quorum-loss', '--from-literal=k=v']);
    lab('crash', 'node2');
    lab('crash', 'node3');
    const r = await measured('recover-quorum', ['node1'], async () => {
      const h = await startRun(env, recoverQuorum, { ...base(), members: ['node1', 'node2', 'node3'], waitForNodesSeconds: 600 });
      await eventually('the survivor recovered alone', async () => {
        const p = await h.query(progressQuery);
        return p.steps.find((x) => x.id === 'wait-reachable:node2')?.status === 'running' ? p : undefined;
      }, 180_000);
      lab('start', 'node2'); // back with their stale etcd pods: the run fences them before they can rejoin
      lab('start', 'node3');
      return h;
    });
    expect(r).toMatchObject({ survivor: 'node1', readded: ['node2', 'node3'], members: ['node1', 'node2', 'node3'] });
    resetClients();
    await expectStacked(['node1', 'node2', 'node3'], 'before-quorum-loss');
  });

  test('replace crashed node3 by node4: member removed, node4 joins with kubeadm join --control-plane (learner first)', async () => {
    lab('crash', 'node3');
    const tokens = () => kubectl(['-n', 'kube-system', 'get', 'secrets', '--field-selector', 'type=bootstrap.kubernetes.io/token', '-o', 'name']);
    const tokensBefore = await tokens();
    const r = await measured('replace', ['node1', 'node2'], () => startRun(env, replaceMember, { ...base(), failed: 'node3', replacement: 'node4' }));
    expect(r).toMatchObject({ removed: 'node3', added: 'node4', voters: 3 });
    await expectStacked(['node1', 'node2', 'node4'], 'before-quorum-loss');
    expect(await kubectl(['get', 'node', 'node4', '-o', 'jsonpath={.metadata.labels}'])).toContain('node-role.kubernetes.io/control-plane');
    // What the join needed is revoked: no bootstrap token of the run is left (of the lab's own, the
    // upload-certs owner may go with the uploaded certificates), and no uploaded certificates.
    const before = tokensBefore.split('\n').filter(Boolean);
    expect((await tokens()).split('\n').filter((t) => t && !before.includes(t))).toEqual([]);
    expect(await kubectl(['-n', 'kube-system', 'get', 'secrets', '-o', 'name'])).not.toMatch(/secret\/kubeadm-certs\b/);
  });

  test('migrate node4 to node3 (repaired, kubeadm reset by its operator): node3 joins, node4\'s member is removed and its control plane stopped', async () => {
    lab('start', 'node3');
    lab('ssh', 'node3', 'systemctl is-system-running --wait >/dev/null; kubeadm reset -f >/dev/null 2>&1; true');
    const r = await measured('migrate', ['node1', 'node2', 'node4'], () => startRun(env, migrateMember, { ...base(), from: 'node4', to: 'node3' }));
    expect(r).toMatchObject({ from: 'node4', to: 'node3', voters: 3 });
    await expectStacked(['node1', 'node2', 'node3'], 'before-quorum-loss');
    // No apiserver is left on node4 to answer without its etcd; its etcd manifest is kept, renamed.
    expect(lab('ssh', 'node4', 'ls /etc/kubernetes/manifests; ls /etc/kubernetes/etcd-runbooks-fenced').split('\n').filter(Boolean).sort())
      .toEqual([expect.stringMatching(/^etcd\.yaml\.removed-/), 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml']);
  });

  test('expand: pre-flight refuses node4 while it is still joined or its containerd serves no CRI; reset, it joins as a 4th control plane', async () => {
    lab('ssh', 'node4', 'kubeadm reset -f >/dev/null 2>&1; true');
    await kubectl(['delete', 'node', 'node4']);
    const refused = async (why: RegExp) => {
      const err = await (await startRun(env, expandCluster, { ...base(), add: ['node4'], allowEvenSize: true })).result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(errorMessage(err)).toMatch(why);
      expect(await memberNames(client('node1'))).toEqual(['node1', 'node2', 'node3']);
    };
    // A worker's kubelet.conf: kubeadm join would refuse the node, after a learner was added.
    lab('ssh', 'node4', 'touch /etc/kubernetes/kubelet.conf');
    await refused(/pre-flight refused: .*node4: already a Kubernetes node/);
    lab('ssh', 'node4', 'rm -f /etc/kubernetes/kubelet.conf; systemctl stop containerd');
    await refused(/pre-flight refused: .*node4: containerd's CRI plugin is not serving/);
    lab('ssh', 'node4', 'systemctl start containerd');
    const r = await measured('expand', ['node1', 'node2', 'node3'], () => startRun(env, expandCluster, { ...base(), add: ['node4'], allowEvenSize: true }));
    expect(r).toMatchObject({ outcome: 'completed', voters: 4 });
    await expectStacked(['node1', 'node2', 'node3', 'node4'], 'before-quorum-loss');
  });

  // Issue 29, Deliver 5: onboarding on the stacked topology, on the cluster as the runs left it.
  test('inventory discover from node1 reads the 4 static pod manifests and kubelet\'s flags; doctor and move-leader run on it unchanged', async () => {
    const found = await discoverLab(inv, 'node1');
    const d = found.discovered;
    expect(d.runtime).toBe('kubeadm');
    expect(d.backsKubernetes).toBe(true);
    expect(d.tls).toEqual(inv.tls);
    // The pull policy is the static pod's (kubeadm writes IfNotPresent); ignorePreflightErrors is not on the nodes to read.
    const podPolicy = lab('ssh', 'node1', 'sed -n "s/^ *imagePullPolicy: *//p" /etc/kubernetes/manifests/etcd.yaml').trim();
    expect(d.kubeadm).toEqual({ ...inv.kubeadm, imagePullPolicy: podPolicy, ignorePreflightErrors: [] });
    expect(discoveredNodes(d)).toEqual(labNodesOf(inv, ['node1', 'node2', 'node3', 'node4']));
    const second = await startWorkerAndClient([found.file]);
    try {
      const rows = await doctorRows(second, found.file);
      expect(problems(rows)).toEqual([]);
      const role = (rs: typeof rows, node: string) => rs.find((r) => r.node === node && r.check === 'etcd member')?.found.split(',')[0];
      const to = ['node1', 'node2', 'node3', 'node4'].find((n) => role(rows, n) === 'voter')!;
      await (await startRun(second, moveLeader, { cluster: 'lab', inventoryDigest: inventoryDigest(found.file), approvedBy: 'e2e', to })).result();
      expect(role(await doctorRows(second, found.file), to)).toBe('leader');
    } finally {
      await second.stop();
    }
  });
});
