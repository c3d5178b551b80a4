import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import { inventoryDigest } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { defragCluster, expandCluster, progressQuery, removeMember } from '../../workflows';
import { describeFailure } from '../../client/failure';
import { clusterView, expectSafe } from '../support/cluster';
import { localKeyNames, memberClient, writeKeys } from '../support/etcd';
import { freshLabWith, INVENTORY, lab, onNode } from '../support/lab';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(15 * 60_000);

// Issue "one cluster per inventory": after a half-done manual recovery node3 serves a one-member
// cluster of its own (restored alone from a snapshot), still listed in the inventory and still a
// member of the others' list. Every read asks each
// endpoint on its own: status names it, every runbook's pre-flight refuses with that reason (the
// same on every try), and the fix the refusal names (remove-member, then add-member) works.
describe('one cluster per inventory (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  const clients: Etcd3[] = [];
  const etcd = (n: string) => { const c = memberClient(inv, n); clients.push(c); return c; };
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY) });
  // Not spawnSync: the worker runs in this process, and a blocked event loop would stall the run.
  const cli = (...args: string[]) => new Promise<{ status: number | null; stdout: string }>((resolve) => {
    execFile(join(__dirname, '..', '..', 'bin', 'etcd-runbooks'), args, { encoding: 'utf8', env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: env.taskQueue } },
      (e, stdout) => resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout }));
  });
  const refusal = async (h: { result: () => Promise<unknown> }, runbook: string) => describeFailure(runbook, await h.result().catch((e: unknown) => e))[0];

  beforeAll(async () => {
    inv = freshLabWith(4, 3);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('node3 restored alone as a cluster of its own: status names it, add-member and defrag refuse alike every time, remove-member and add-member put it back', async () => {
    await writeKeys(etcd('node1'), 'one/', 50);
    // node3 restored alone from its own snapshot (a half-done manual restore): a cluster of its own
    // under another cluster ID. (Not --force-new-cluster: node3 would then answer the others'
    // raft messages "removed", and etcd stops both of them: "the member has been permanently removed".)
    const n3 = inv.nodes.find((n) => n.name === 'node3')!.etcd;
    const t = inv.tls;
    onNode('node3', [
      'set -e',
      `etcdctl --endpoints=${n3.clientURL} --cacert=${t.caFile} --cert=${t.clientCertFile} --key=${t.clientKeyFile} snapshot save /var/tmp/alone.db >/dev/null`,
      `systemctl stop etcd && mv ${n3.dataDir} ${n3.dataDir}.before-alone`,
      `etcdutl snapshot restore /var/tmp/alone.db --data-dir ${n3.dataDir} --name ${n3.memberName} --initial-cluster ${n3.memberName}=${n3.peerURL} --initial-advertise-peer-urls ${n3.peerURL} >/dev/null 2>&1`,
      `chown -R etcd:etcd ${n3.dataDir} && systemctl start etcd`,
    ].join('\n'));
    const [one, two, three] = await eventually('node3 serves a cluster of its own, node1 and node2 theirs', async () => {
      const v = await clusterView(inv, ['node1', 'node2', 'node3']);
      return v[2].members?.join(',') === 'node3' && v[0].serving && v[1].serving ? v : undefined;
    }, 60_000);
    expect(three.clusterId).not.toBe(one.clusterId);
    expect([one.members, two.members]).toEqual([['node1', 'node2', 'node3'], ['node1', 'node2', 'node3']]);

    const status = await cli('status', '-i', INVENTORY);
    expect(status.status).toBe(3);
    // The inventory's cluster, with its leader (not "leader none"): node1's and node2's.
    expect(status.stdout).toMatch(new RegExp(`^cluster ${BigInt(one.clusterId!).toString(16)} \\(cluster version [0-9.]+; leader [0-9a-f]+;`, 'm'));
    expect(status.stdout).toMatch(/\nANOTHER CLUSTER on inventory nodes .*\n {2}node3 \(https:\/\/[^)]+\): serves cluster [0-9a-f]+ \(members node3\), not [0-9a-f]+ \(members node1, node2, node3\)/);

    // The two tries the issue saw end differently; now both refuse at pre-flight, for that reason.
    for (let i = 0; i < 2; i++) {
      const h = await startRun(env, expandCluster, { ...base(), add: ['node4'], allowEvenSize: true, approvedBy: 'e2e' });
      expect(await refusal(h, 'expandCluster')).toMatch(/pre-flight refused: node3: serves cluster [0-9a-f]+ \(members node3\), not .*; fix it first: remove-member --node node3/);
      expect((await h.query(progressQuery)).steps.filter((s) => s.status !== 'pending').map((s) => s.id)).toEqual(['preflight']);
    }
    const d = await startRun(env, defragCluster, { ...base(), dryRun: true });
    expect(await refusal(d, 'defragCluster')).toMatch(/pre-flight refused: node3: serves cluster [0-9a-f]+ \(members node3\)/);
    expect((await clusterView(inv, ['node1'])).map((v) => v.members)).toEqual([['node1', 'node2', 'node3']]);

    // The fix the refusal names: remove node3's member from the cluster (this fences its etcd),
    // then add it back with an empty data dir.
    const removed = await startRun(env, removeMember, { ...base(), node: 'node3', approvedBy: 'e2e' });
    await removed.result();
    const after = await cli('status', '-i', INVENTORY);
    expect(after.stdout).not.toMatch(/ANOTHER CLUSTER/);
    const added = await startRun(env, expandCluster, { ...base(), add: ['node3'], approvedBy: 'e2e' });
    await added.result();
    const view = await expectSafe(inv, 3);
    expect(view.filter((v) => v.serving).map((v) => v.members)).toEqual([['node1', 'node2', 'node3'], ['node1', 'node2', 'node3'], ['node1', 'node2', 'node3']]);
    expect(await localKeyNames(etcd('node3'), 'one/')).toHaveLength(50);
  });
});
