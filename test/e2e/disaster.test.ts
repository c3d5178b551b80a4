import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { backupCluster, progressQuery, recoverQuorum, restoreCluster } from '../../workflows';
import { errorMessage } from '../../workflows/steps';
import { freshLabWith, INVENTORY, lab, onNode, onNodeStatus } from '../support/lab';
import { localKeys, memberClient, writeKeys } from '../support/etcd';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(10 * 60_000);

const NODES = ['node1', 'node2', 'node3'];

// Restore and quorum recovery on a real 3-member cluster with real crashes and lost disks.
describe('disaster runbooks on the lab (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let clients: Record<string, Etcd3> = {};
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  const client = (node: string) => (clients[node] ??= memberClient(inv, node));
  const fresh = () => {
    Object.values(clients).forEach((c) => c.close());
    clients = {};
    inv = freshLabWith(3, 3);
  };
  const dataDirs = () => NODES.map((n) => onNode(n, 'ls -A /var/lib/etcd; systemctl is-active etcd || true').trim());

  beforeAll(async () => {
    fresh();
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    Object.values(clients).forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('restore refuses a corrupted and a truncated snapshot before touching any node', async () => {
    await writeKeys(client('node1'), 'x/', 50);
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 3 })).result();
    onNode(backup.node, `cp ${backup.path} /root/corrupt.db && printf 'XXXX' | dd of=/root/corrupt.db bs=1 seek=5000 conv=notrunc 2>/dev/null && head -c 10000 ${backup.path} > /root/truncated.db`);
    const before = dataDirs();
    for (const [file, why] of [['/root/corrupt.db', /fails its SHA-256 check/], ['/root/truncated.db', /fails its SHA-256 check|too short/]] as const) {
      const h = await startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: file }, members: NODES });
      const msg = errorMessage(await h.result().catch((e) => e));
      expect(msg).toMatch(/pre-flight refused: snapshot .* failed its integrity check/);
      expect(msg).toMatch(why);
      expect((await h.query(progressQuery)).steps.filter((s) => s.status !== 'pending').map((s) => s.id)).toEqual(['preflight']);
    }
    expect(dataDirs()).toEqual(before);
    expect(before.every((d) => /^default\s+active$/.test(d))).toBe(true);
  });

  test('restore after every node crashed and lost its disk: keys up to the backup on all 3, new cluster ID, own peer URLs', async () => {
    await writeKeys(client('node1'), 'before/', 300);
    const oldClusterId = (await client('node1').maintenance.status()).header!.cluster_id;
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 3 })).result();
    await writeKeys(client('node1'), 'after/', 200);
    for (const n of NODES) { lab('crash', n); lab('wipe', n); }
    for (const n of NODES) lab('start', n); // they boot into empty etcds: the danger a restore must fence
    const started = Date.now();
    const r = await (await startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, restoreOn: 'node2', members: ['node2', 'node1', 'node3'] })).result();
    console.log(`restoreCluster took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(r.members).toEqual(NODES);
    Object.values(clients).forEach((c) => c.close());
    clients = {};
    const st = await client('node1').maintenance.status();
    expect(st.header!.cluster_id).not.toBe(oldClusterId);
    expect(r.clusterId).not.toBe(BigInt(oldClusterId).toString(16));
    const members = (await client('node1').cluster.memberList({})).members!;
    for (const m of members) expect(m.peerURLs).toEqual([inv.nodes.find((n) => n.name === m.name)!.etcd.peerURL]);
    expect(members.every((m) => !m.isLearner)).toBe(true);
    for (const n of NODES) {
      const keys = await eventually(`${n} serves reads`, () => localKeys(client(n), ''));
      expect(Object.keys(keys).filter((k) => k.startsWith('before/'))).toHaveLength(300);
      expect(Object.keys(keys).filter((k) => k.startsWith('after/'))).toHaveLength(0);
      expect(onNode(n, 'ls -d /var/lib/etcd/default.aside-restore-*')).toMatch(/aside-restore-/);
    }
  });

  test('quorum loss: 2 of 3 crash; recoverQuorum picks the survivor and ends with 3 voters, every key, no --force-new-cluster', async () => {
    fresh();
    await writeKeys(client('node1'), 'q/', 300);
    lab('crash', 'node2');
    lab('crash', 'node3');
    const started = Date.now();
    const h = await startRun(env, recoverQuorum, { ...base(), members: NODES, waitForNodesSeconds: 300 });
    await eventually('the survivor recovered alone', async () => {
      const p = await h.query(progressQuery);
      return p.steps.find((s) => s.id === 'wait-reachable:node2')?.status === 'running' ? p : undefined;
    }, 120_000);
    lab('start', 'node2'); // back with stale data and etcd enabled
    lab('start', 'node3');
    const r = await h.result();
    console.log(`recoverQuorum took ${((Date.now() - started) / 1000).toFixed(1)} s (including the nodes' repair)`);
    expect(r.survivor).toBe('node1');
    expect(r.evidence[0]).toMatch(/^node1: running, term \d+, index \d+/);
    expect(r.members).toEqual(NODES);
    for (const n of NODES) {
      expect(Object.keys(await eventually(`${n} serves reads`, () => localKeys(client(n), 'q/')))).toHaveLength(300);
      expect(onNodeStatus(n, 'test -e /etc/systemd/system/etcd.service.d/etcd-runbooks-force-new-cluster.conf')).not.toBe(0);
      expect(onNodeStatus(n, 'tr "\\0" "\\n" < /proc/$(systemctl show -p MainPID --value etcd)/environ | grep -q ETCD_FORCE_NEW_CLUSTER')).not.toBe(0);
      expect(onNodeStatus(n, 'systemctl is-active --quiet etcd')).toBe(0);
    }
    expect(onNode('node1', 'ls -d /var/lib/etcd/default.backup-recover-*')).toMatch(/backup-recover-/);
  });
});
