import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { rotateCerts, upgradeCluster } from '../../workflows';
import type { RunbookProgress } from '../../domain/progress';
import { describeFailure } from '../../client/failure';
import { freshLabWith, INVENTORY, lab, onNode } from '../support/lab';
import { memberNames } from '../support/etcd';
import { kubectl, readyzWithin, readyzProbe, recordKubeRun } from '../support/kube';
import { stackedClient, stackedCredentials } from '../support/stacked';
import { servedCertificates } from '../support/certs';
import { stageImage } from '../support/releases';
import { startWriter } from '../support/writer';
import { startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(15 * 60_000);

const NODES = ['node1', 'node2', 'node3'];
const FROM = '3.5.35';
const TO = '3.6.16';

// The maintenance runbooks on stacked etcd (kubeadm static pods), one lab boot: 3 control-plane
// nodes, etcd 3.5.35 as kubeadm's static pod, the 3.6.16 image imported into containerd by the
// "operator". Judged from each member's own endpoint and each node's apiserver.
describe('maintenance on stacked etcd (kubeadm static pods)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  const api = (node: string) => `https://${inv.nodes.find((n) => n.name === node)!.ssh.host}:6443`;
  /** Each member's version and raft term, from its own endpoint. */
  const members = async () => Object.fromEntries(await Promise.all(NODES.map(async (n) => {
    const c = stackedClient(inv, n);
    try {
      const s = await c.maintenance.status();
      return [n, { version: s.version, term: Number(s.raftTerm), leader: s.leader === s.header.member_id }] as const;
    } finally {
      c.close();
    }
  })));
  /**
   * Runs a runbook under a steady writer (one client per member, failing over) and a /readyz probe
   * of every apiserver; records the figures for the kubeadm table. Leader elections: raft term
   * change seen from node1.
   */
  async function underLoad<R>(name: string, run: () => Promise<R>) {
    const own: Etcd3[] = NODES.map((n) => stackedClient(inv, n));
    const writer = startWriter(own, `/steady-${name}/`, 20);
    const probe = readyzProbe(NODES.map(api));
    const before = await members();
    const started = Date.now();
    const outcome = await run().then((r) => ({ r }), (error: unknown) => ({ error }));
    const seconds = (Date.now() - started) / 1000;
    const written = await writer.stop();
    const readyz = await probe.stop();
    own.forEach((c) => c.close());
    const elections = (await members()).node1.term - before.node1.term;
    recordKubeRun(`stacked ${name}`, { seconds: Math.round(seconds * 10) / 10, writes: written.writes, failedWrites: written.errors.length, leaderElections: elections,
      kubectlCalls: readyz.rounds * NODES.length, failedKubectl: readyz.failedCalls, failuresPerEndpoint: readyz.failures, secondsAllDown: readyz.allDown });
    if ('error' in outcome) throw outcome.error;
    return { r: outcome.r, seconds, before, failed: written.errors, elections, allDown: readyz.allDown };
  }

  /** Every node's apiserver answers /readyz. */
  async function expectReady() {
    for (const n of NODES) expect(`${n}: ${await readyzWithin(api(n))}`).toBe(`${n}: ok`);
  }


  beforeAll(async () => {
    const t = Date.now();
    inv = freshLabWith(3, 3, { stacked: true, etcd: '3.5' });
    console.log(`stacked lab (etcd ${FROM}): booted in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test(`upgrade ${FROM} -> ${TO}: refused while node3 lacks the image; then the image tag of each manifest, followers first, under a writer`, async () => {
    stageImage(['node1', 'node2'], TO);
    const refused = await (await startRun(env, upgradeCluster, { ...base(), version: TO })).result().catch((e: unknown) => e);
    expect(describeFailure('upgradeCluster', refused)[0]).toMatch(new RegExp(`pre-flight refused: .*node3: no image lab\\.local/etcd:${TO.replace(/\./g, '\\.')}-0 in containerd`));
    expect(Object.values(await members()).map((m) => m.version)).toEqual([FROM, FROM, FROM]);
    stageImage(['node3'], TO);

    let progress: RunbookProgress | undefined;
    const { r, seconds, before, failed, elections, allDown } = await underLoad('upgrade', async () => {
      const h = await startRun(env, upgradeCluster, { ...base(), version: TO });
      try { return await h.result(); } finally { progress = await h.query('progress'); }
    });
    const after = await members();
    const upgrades = progress!.steps.filter((s) => s.id.startsWith('upgrade:'));
    console.log(`stacked upgrade ${FROM} -> ${TO}: ${seconds.toFixed(1)} s; ${upgrades.map((s) => `${s.id} ${s.detail}`).join('; ')}; failed writes ${failed.length}${failed.length ? ` (${failed[0]})` : ''}; leader elections ${elections}; seconds with every apiserver down ${allDown}`);
    expect(NODES.map((n) => after[n].version)).toEqual([TO, TO, TO]);
    expect('clusterVersion' in r && r.clusterVersion).toBe('3.6.0');
    expect(upgrades[2].node).toBe(NODES.find((n) => before[n].leader));
    for (const n of NODES) expect(onNode(n, 'sed -n "s/^ *image: *//p" /etc/kubernetes/manifests/etcd.yaml').trim()).toBe(`lab.local/etcd:${TO}-0`);
    for (const n of NODES) expect(onNode(n, 'ls /etc/kubernetes/etcd-runbooks-fenced 2>/dev/null || true')).not.toMatch(/^etcd\.yaml$/m);
    // kubeadm joins later control-plane nodes with this tag: a 3.5 member would be refused by the 3.6 cluster.
    expect(await kubectl(['-n', 'kube-system', 'get', 'configmap', 'kubeadm-config', '-o', 'jsonpath={.data.ClusterConfiguration}'])).toMatch(new RegExp(`\\n    imageTag: ${TO.replace(/\./g, '\\.')}-0\\n`));
    expect(failed).toEqual([]);
    expect(elections).toBeLessThanOrEqual(3);
    const c = stackedClient(inv, 'node1');
    try { expect(await memberNames(c)).toEqual(NODES); } finally { c.close(); }
    await expectReady();
  });

  /** The kube-apiserver container running on each node (its ID), read with ctr. */
  const apiservers = () => Object.fromEntries(NODES.map((n) => [n, onNode(n, `for id in $(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==kube-apiserver'); do ctr -n k8s.io tasks ls | awk -v id="$id" '$1 == id && $3 == "RUNNING" { print id }'; done`).trim()]));
  /** Each node's kubeadm etcd certificates: SHA-256 of every .crt and .key kubeadm renews. */
  const pkiDigest = (n: string) => onNode(n, 'cd /etc/kubernetes/pki && sha256sum etcd/server.* etcd/peer.* etcd/healthcheck-client.* apiserver-etcd-client.*');

  test('rotate-certs, kubeadm cannot renew on the second node (its etcd CA key moved away, "external CA"): the first node\'s pairs are put back and served again', async () => {
    const before = await servedCertificates(inv, NODES, stackedCredentials());
    const digests = NODES.map(pkiDigest);
    onNode('node2', 'mv /etc/kubernetes/pki/etcd/ca.key /root/etcd-ca.key.aside');
    try {
      const err = await (await startRun(env, rotateCerts, { ...base() })).result().catch((e: unknown) => e);
      expect(describeFailure('rotateCerts', err)[0]).toMatch(/^rotateCerts failed and was undone: failed: node2: kubeadm certs renew etcd-server left \/etc\/kubernetes\/pki\/etcd\/server\.crt as it was \(kubeadm: Detected external etcd\/ca.*\); the previous certificates of node1, node2 are back in place/);
    } finally {
      onNode('node2', 'mv /root/etcd-ca.key.aside /etc/kubernetes/pki/etcd/ca.key');
    }
    expect(NODES.map(pkiDigest)).toEqual(digests);
    expect(await servedCertificates(inv, NODES, stackedCredentials())).toEqual(before);
    for (const n of NODES) expect(onNode(n, 'ls /etc/kubernetes/pki /etc/kubernetes/pki/etcd')).not.toMatch(/\.before-/);
    await expectReady();
  });

  test('rotate-certs under a writer: kubeadm certs renew on each node, the new expiry served with the same SANs, each apiserver restarted, 0 failed writes', async () => {
    const before = await servedCertificates(inv, NODES, stackedCredentials());
    const apisBefore = apiservers();
    const clientCert = (n: string) => Date.parse(onNode(n, 'openssl x509 -in /etc/kubernetes/pki/apiserver-etcd-client.crt -noout -enddate').trim().replace(/^notAfter=/, ''));
    const clientBefore = NODES.map(clientCert);
    const { seconds, failed, elections, allDown } = await underLoad('rotate-certs', async () => (await startRun(env, rotateCerts, { ...base() })).result());
    const after = await servedCertificates(inv, NODES, stackedCredentials());
    console.log(`stacked rotate-certs: ${seconds.toFixed(1)} s; served client-URL expiry ${NODES.map((n) => `${n} ${before[n].client.notAfter} -> ${after[n].client.notAfter}`).join(', ')}; failed writes ${failed.length}${failed.length ? ` (${failed[0]})` : ''}; leader elections ${elections}; seconds with every apiserver down ${allDown}`);
    for (const n of NODES) {
      for (const url of ['client', 'peer'] as const) {
        expect(Date.parse(after[n][url].notAfter)).toBeGreaterThan(Date.parse(before[n][url].notAfter));
        expect(after[n][url].subjectAltName).toBe(before[n][url].subjectAltName);
      }
    }
    NODES.forEach((n, i) => expect(clientCert(n)).toBeGreaterThan(clientBefore[i]));
    const apisAfter = apiservers();
    for (const n of NODES) expect(apisAfter[n]).not.toBe(apisBefore[n]);
    expect(failed).toEqual([]);
    expect(elections).toBe(0);
    await expectReady();
  });
});
