import type { WorkflowHandle } from '@temporalio/client';
import type { Etcd3 } from 'etcd3';
import { inventoryDigest } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { backupCluster, cleanupNode, expandCluster, progressQuery, recoverQuorum, restoreCluster } from '../../workflows';
import { describeFailure } from '../../client/failure';
import { clusterView, expectSafe, writeBulk } from '../support/cluster';
import { localKeyNames, localKeys, memberClient, memberNames, writeKeys } from '../support/etcd';
import { freshLabWith, INVENTORY, lab, onNode, onNodeStatus } from '../support/lab';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';
import { approveAs, cancelAs } from '../support/decisions';

jest.setTimeout(15 * 60_000);

const NODES = ['node1', 'node2', 'node3'];

/** Waits until the run's progress shows `step` in one of `statuses`. */
const stepReaches = (h: WorkflowHandle, step: string, statuses: string[], timeoutMs = 180_000) =>
  eventually(`${step} ${statuses.join('|')}`, async () => (statuses.includes((await h.query(progressQuery)).steps.find((s) => s.id === step)?.status ?? '') ? true : undefined), timeoutMs);

// The three ways 0.1 left a cluster worse than it found it (issue "never worse"), reproduced on the
// lab and asserted from etcd itself, plus a partition mid-expand and the cleanup verb.
describe('never worse: the reported failures (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let clients: Etcd3[] = [];
  const etcd = (n: string) => { const c = memberClient(inv, n); clients.push(c); return c; };
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY) });
  const fresh = (nodes: number, members: number) => {
    clients.forEach((c) => c.close());
    clients = [];
    inv = freshLabWith(nodes, members);
  };

  beforeAll(async () => {
    fresh(3, 3);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('recover-quorum on a healthy cluster whose SSH (only) fails to two members refuses and changes nothing', async () => {
    await writeKeys(etcd('node1'), 'q/', 100);
    const before = await clusterView(inv);
    lab('block', 'node2', 'ssh');
    lab('block', 'node3', 'ssh');
    try {
      const h = await startRun(env, recoverQuorum, { ...base(), members: NODES, approvedBy: 'e2e', waitForNodesSeconds: 60 });
      const err = await h.result().catch((e) => e);
      expect(describeFailure('recoverQuorum', err)[0]).toMatch(/pre-flight refused: 3 of 3 voting members may still serve/);
      const p = await h.query(progressQuery);
      expect(p.liveness).toEqual(expect.arrayContaining([expect.stringMatching(/^node2: ssh FAILS.*etcd serving \(seen by node1\)/)]));
      expect(p.steps.filter((s) => s.status !== 'pending').map((s) => s.id)).toEqual(['preflight']);
      // the writes of whoever leads keep going through node2
      await etcd('node2').put('q/after-refusal').value('1').exec();
    } finally {
      lab('unblock', 'node2');
      lab('unblock', 'node3');
    }
    const after = await expectSafe(inv, 3);
    expect(after.map((v) => [v.clusterId, v.members])).toEqual(before.map((v) => [v.clusterId, v.members]));
  });

  test('a member that one node cannot reach is judged by the nodes that can: recover-quorum refuses and changes nothing', async () => {
    const before = await clusterView(inv);
    lab('cut', 'node1', 'node3');
    try {
      expect(onNodeStatus('node1', 'timeout 2 bash -c "exec 3<>/dev/tcp/' + new URL(inv.nodes.find((n) => n.name === 'node3')!.etcd.clientURL).hostname + '/2379"')).not.toBe(0);
      const h = await startRun(env, recoverQuorum, { ...base(), members: NODES, approvedBy: 'e2e', waitForNodesSeconds: 60 });
      const err = await h.result().catch((e) => e);
      expect(describeFailure('recoverQuorum', err)[0]).toMatch(/pre-flight refused: 3 of 3 voting members may still serve/);
      // node1 asks first and misses node3; the other nodes are asked then, and node2 sees it
      expect((await h.query(progressQuery)).liveness).toEqual(expect.arrayContaining([expect.stringMatching(/^node3: ssh ok; etcd serving \(seen by node2\)/)]));
    } finally {
      lab('unblock', 'node1');
    }
    const after = await expectSafe(inv, 3);
    expect(after.map((v) => [v.clusterId, v.members])).toEqual(before.map((v) => [v.clusterId, v.members]));
  });

  test('restore refuses before fencing when the restore node has no room for the copy; the cluster keeps serving', async () => {
    await writeBulk(etcd('node1'), 'bulk/', 200);
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 3, approvedBy: 'e2e' })).result();
    const target = NODES.find((n) => n !== backup.node)!;
    lab('smalldisk', target, '/var/backups/etcd-runbooks', '50M');
    try {
      const before = await clusterView(inv);
      const h = await startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, restoreOn: target, members: NODES, approvedBy: 'e2e' });
      const msg = describeFailure('restoreCluster', await h.result().catch((e) => e))[0];
      expect(msg).toMatch(new RegExp(`${target}: not enough free disk for the copy`));
      const touched = (await h.query(progressQuery)).steps.filter((s) => s.id.startsWith('fence:') && s.status !== 'pending');
      expect(touched).toEqual([]);
      expect((await expectSafe(inv, 3)).map((v) => v.clusterId)).toEqual(before.map((v) => v.clusterId));
    } finally {
      lab('bigdisk', target, '/var/backups/etcd-runbooks');
    }
  });

  test('restore of a 200 MiB snapshot onto another node than the one holding it', async () => {
    await writeKeys(etcd('node1'), 'before/', 100);
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 3, approvedBy: 'e2e' })).result();
    expect(backup.sizeBytes).toBeGreaterThan(200 * 2 ** 20);
    await writeKeys(etcd('node1'), 'after/', 50);
    const restoreOn = NODES.find((n) => n !== backup.node)!;
    const started = Date.now();
    const h = await startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, restoreOn, members: [restoreOn, ...NODES.filter((n) => n !== restoreOn)], approvedBy: 'e2e' });
    const r = await h.result();
    console.log(`restore of ${(backup.sizeBytes / 2 ** 20).toFixed(0)} MiB onto ${restoreOn} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(r.members).toEqual(NODES);
    const p = await h.query(progressQuery);
    expect(p.steps.find((s) => s.id === 'copy-snapshot')?.detail).toMatch(/bytes streamed/);
    await expectSafe(inv, 3);
    for (const n of NODES) {
      const keys = await eventually(`${n} reads`, () => localKeyNames(etcd(n), ''));
      expect(keys.filter((k) => k.startsWith('bulk/'))).toHaveLength(200);
      expect(keys.filter((k) => k.startsWith('before/'))).toHaveLength(100);
      expect(keys.filter((k) => k.startsWith('after/'))).toHaveLength(0);
    }
    // history stays small: no file content, bounded command records
    const history = JSON.stringify(await h.fetchHistory());
    expect(history.length).toBeLessThan(400_000);
  });

  test('restore cancelled after fencing began puts every data dir back and etcd serving as before', async () => {
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 3, approvedBy: 'e2e' })).result();
    await writeKeys(etcd('node1'), 'kept/', 20);
    const before = await clusterView(inv);
    const h = await startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, members: NODES });
    await eventually('fence approval asked', async () => ((await h.query(progressQuery)).pendingApproval?.step === 'fence' ? true : undefined), 180_000);
    await approveAs(h, 'fence');
    await stepReaches(h, 'fence:node1', ['done']);
    await cancelAs(h);
    const lines = describeFailure('restoreCluster', await h.result().catch((e) => e));
    console.log(lines.join('\n'));
    expect(lines[0]).toMatch(/^restoreCluster cancelled: cancelled on request; every fenced member got its own data dir back/);
    const p = await h.query(progressQuery);
    expect(p.steps.filter((s) => s.id.startsWith('unfence:')).map((s) => s.status)).not.toContain('failed');
    expect(p.steps.find((s) => s.id.startsWith('start-restored:'))?.status).toBe('pending');
    const after = await eventually('all serving again', async () => {
      const v = await clusterView(inv);
      return v.every((x) => x.serving && x.leader !== '0') ? v : undefined;
    });
    expect(after.map((v) => [v.clusterId, v.members])).toEqual(before.map((v) => [v.clusterId, v.members]));
    for (const n of NODES) expect(Object.keys(await eventually(`${n} reads`, () => localKeys(etcd(n), 'kept/')))).toHaveLength(20);
    await expectSafe(inv, 3);
  });

  test('expand cancelled right after "add as learner": the learner is removed and etcd stopped on the node', async () => {
    fresh(3, 1);
    await writeBulk(etcd('node1'), 'bulk/', 50);
    const h = await startRun(env, expandCluster, { ...base(), add: ['node2', 'node3'] });
    await stepReaches(h, 'add-learner:node2', ['done']);
    await cancelAs(h);
    const lines = describeFailure('expandCluster', await h.result().catch((e) => e));
    expect(lines[0]).toMatch(/^expandCluster cancelled: cancelled on request; the members this run added \(node2\) were taken out again/);
    expect(await memberNames(etcd('node1'))).toEqual(['node1']);
    expect(onNodeStatus('node2', 'systemctl is-active --quiet etcd')).not.toBe(0);
    await expectSafe(inv, 1);
  });

  test('a partition of the new node right after member add: the member is removed, the run ends soon with the node left named, and cleanup finishes it', async () => {
    const h = await startRun(env, expandCluster, { ...base(), add: ['node2', 'node3'] });
    await stepReaches(h, 'add-learner:node2', ['done']);
    lab('partition', 'node2');
    const started = Date.now();
    let lines: string[];
    try {
      lines = describeFailure('expandCluster', await h.result().catch((e) => e));
      console.log(`partitioned node2: the run ended ${((Date.now() - started) / 1000).toFixed(1)} s after the partition\n${lines.join('\n')}`);
      expect(await memberNames(etcd('node1'))).toEqual(['node1']);
      await expectSafe(inv, 1);
    } finally {
      lab('heal', 'node2');
    }
    expect(lines[0]).toMatch(/^expandCluster failed and was undone: /);
    expect(lines.slice(1)).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}left on node2: etcd may still run .* -> etcd-runbooks cleanup --node node2$/)]));
    const c = await (await startRun(env, cleanupNode, { ...base(), node: 'node2', approvedBy: 'e2e' })).result();
    expect(c.service).not.toBe('running');
    expect(onNodeStatus('node2', 'systemctl is-enabled --quiet etcd')).not.toBe(0);
    expect(onNode('node2', 'ls -A /var/lib/etcd/default 2>/dev/null | wc -l').trim()).toBe('0');
    // cleanup refuses a member
    const refused = describeFailure('cleanupNode', await (await startRun(env, cleanupNode, { ...base(), node: 'node1', approvedBy: 'e2e' })).result().catch((e) => e));
    expect(refused[0]).toMatch(/node1: member node1 is in the cluster; use remove-member/);
  });
});
