import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { migrateMember, replaceMember } from '../../workflows';
import { freshLabWith, INVENTORY, lab, onNodeStatus } from '../support/lab';
import { leaderNode, localKeys, memberClient, memberNames, writeKeys } from '../support/etcd';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';
import { startWriter } from '../support/writer';

jest.setTimeout(10 * 60_000);

// Each test gets a fresh lab: 4 nodes, node1..node3 a 3-member cluster, node4 spare.
describe('replace and migrate on the lab (end to end, real faults)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let clients: Record<string, Etcd3> = {};
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  const client = (node: string) => (clients[node] ??= memberClient(inv, node));

  async function expectKeysEverywhere(nodes: string[], prefix: string, count: number) {
    for (const n of nodes) expect(Object.keys(await eventually(`${n} serves reads`, () => localKeys(client(n), prefix)))).toHaveLength(count);
  }

  let labIsFresh = false;
  beforeAll(async () => {
    inv = freshLabWith(4, 3);
    labIsFresh = true;
    env = await startWorkerAndClient([INVENTORY]);
  });
  beforeEach(() => {
    if (labIsFresh) { labIsFresh = false; return; }
    Object.values(clients).forEach((c) => c.close());
    clients = {};
    inv = freshLabWith(4, 3);
  });
  afterAll(async () => {
    Object.values(clients).forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('replace a crashed member with the same node after its disk was lost', async () => {
    await writeKeys(client('node1'), 'r1/', 500);
    lab('crash', 'node2');
    lab('wipe', 'node2');
    lab('start', 'node2'); // boots with an empty data dir; its etcd starts on nothing
    const started = Date.now();
    const r = await (await startRun(env, replaceMember, { ...base(), failed: 'node2' })).result();
    console.log(`replaceMember (same node) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(r).toMatchObject({ removed: 'node2', added: 'node2', voters: 3 });
    expect(await memberNames(client('node1'))).toEqual(['node1', 'node2', 'node3']);
    const ids = (await client('node1').cluster.memberList({})).members!.map((m) => m.ID);
    expect(ids).toHaveLength(3);
    await expectKeysEverywhere(['node1', 'node2', 'node3'], 'r1/', 500);
  });

  test('replace a crashed member with a fresh node; the old node coming back cannot rejoin', async () => {
    await writeKeys(client('node1'), 'r2/', 500);
    const oldId = (await client('node1').cluster.memberList({})).members!.find((m) => m.name === 'node2')!.ID;
    lab('crash', 'node2');
    const writerClient = memberClient(inv, 'node1');
    const writer = startWriter(writerClient, 'rw/');
    const started = Date.now();
    let r;
    let written = { writes: 0, errors: [] as string[] };
    try {
      r = await (await startRun(env, replaceMember, { ...base(), failed: 'node2', replacement: 'node4' })).result();
    } finally {
      written = await writer.stop();
      writerClient.close();
    }
    const { writes, errors } = written;
    console.log(`replaceMember (node4) took ${((Date.now() - started) / 1000).toFixed(1)} s; ${writes} writes through node1, ${errors.length} failed`);
    expect(errors).toEqual([]);
    expect(r).toMatchObject({ removed: 'node2', added: 'node4', voters: 3 });
    expect(await memberNames(client('node1'))).toEqual(['node1', 'node3', 'node4']);
    await expectKeysEverywhere(['node1', 'node3', 'node4'], 'r2/', 500);

    lab('start', 'node2'); // back with its stale data and etcd enabled
    await eventually('stale etcd on node2 to stop by itself', async () => (onNodeStatus('node2', 'systemctl is-active --quiet etcd') !== 0 ? true : undefined), 60_000);
    const members = (await client('node1').cluster.memberList({})).members!;
    expect(members.map((m) => m.ID)).not.toContain(oldId);
    expect(members.map((m) => m.name).sort()).toEqual(['node1', 'node3', 'node4']);
    expect(onNodeStatus('node2', 'journalctl -u etcd --no-pager | grep -q "permanently removed"')).toBe(0);
  });

  test('migrate the leader to node4 while a steady writer writes: no write fails', async () => {
    await writeKeys(client('node1'), 'm/', 200);
    const leader = await leaderNode(inv, { node1: client('node1'), node2: client('node2'), node3: client('node3') });
    const stay = ['node1', 'node2', 'node3'].filter((n) => n !== leader);
    const writerClient = memberClient(inv, stay[0]);
    const writer = startWriter(writerClient, 'w/');
    const started = Date.now();
    let result;
    try {
      const r = await (await startRun(env, migrateMember, { ...base(), from: leader, to: 'node4' })).result();
      expect(r).toMatchObject({ from: leader, to: 'node4', voters: 3 });
    } finally {
      result = await writer.stop();
      writerClient.close();
    }
    const { writes, errors } = result;
    console.log(`migrateMember (leader ${leader} -> node4) took ${((Date.now() - started) / 1000).toFixed(1)} s; ${writes} writes through ${stay[0]}, ${errors.length} failed`);
    expect(errors).toEqual([]);
    expect(writes).toBeGreaterThan(50);
    expect(await memberNames(client(stay[0]))).toEqual([...stay, 'node4'].sort());
    await expectKeysEverywhere([...stay, 'node4'], 'w/', writes);
    expect(onNodeStatus(leader, 'systemctl is-active --quiet etcd')).not.toBe(0);
  });
});
