import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { expandCluster, migrateMember, progressQuery, replaceMember } from '../../workflows';
import { errorMessage } from '../../workflows/steps';
import { freshLabWith, INVENTORY, lab, type LabEtcd } from '../support/lab';
import { localKeyNames, memberClient, memberNames, writeKeys } from '../support/etcd';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(20 * 60_000);

// A cluster mid-upgrade: members on etcd 3.5 and 3.6 at once. etcd runs such a cluster at the
// lowest member's version (the cluster version), refuses a member older than it, and raises it
// once every member runs the newer release.
describe('mixed etcd versions (a cluster mid-upgrade)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>> | undefined;
  let clients: Record<string, Etcd3> = {};
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  const client = (node: string) => (clients[node] ??= memberClient(inv, node));
  const versionOf = async (node: string) => (await client(node).maintenance.status()).version;
  const fresh = async (nodes: number, members: number, v: LabEtcd) => {
    Object.values(clients).forEach((c) => c.close());
    clients = {};
    inv = freshLabWith(nodes, members, v);
    env ??= await startWorkerAndClient([INVENTORY]);
  };
  afterAll(async () => {
    Object.values(clients).forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('replace and migrate across the skew: cluster version 3.5 with members on 3.5 and 3.6', async () => {
    await fresh(4, 3, { etcd: '3.5', nodeEtcd: { node1: '3.6', node4: '3.6' } });
    await writeKeys(client('node1'), 'm/', 200);
    expect([await versionOf('node1'), await versionOf('node2')]).toEqual(['3.6.16', '3.5.35']);

    // node2 (3.5) loses its disk and is replaced by itself, still on 3.5.
    lab('crash', 'node2');
    lab('wipe', 'node2');
    lab('start', 'node2');
    const rh = await startRun(env!, replaceMember, { ...base(), failed: 'node2' });
    expect(await rh.result()).toMatchObject({ removed: 'node2', added: 'node2', voters: 3 });
    expect((await rh.query(progressQuery)).liveness?.at(-1)).toBe('versions: cluster 3.5.0 (reported by etcd); node2 has etcd 3.5.35');
    expect(await versionOf('node2')).toBe('3.5.35');

    // node3 (3.5) migrates to node4 (3.6): the newer member joins the 3.5 cluster.
    const mh = await startRun(env!, migrateMember, { ...base(), from: 'node3', to: 'node4' });
    await mh.result();
    expect(await memberNames(client('node1'))).toEqual(['node1', 'node2', 'node4']);
    for (const n of ['node1', 'node2', 'node4']) {
      expect((await eventually(`${n} serves`, () => localKeyNames(client(n), 'm/'))).length).toBe(200);
    }
  });

  test('a member older than the cluster version is refused before anything changes; with the right etcd it joins', async () => {
    await fresh(3, 2, { etcd: '3.6', nodeEtcd: { node3: '3.5' } });
    const refused = await startRun(env!, expandCluster, { ...base(), add: ['node3'], allowEvenSize: true });
    const msg = errorMessage(await refused.result().catch((e) => e));
    expect(msg).toMatch(/pre-flight refused: .*node3: its etcd 3\.5\.35 is older than the cluster version 3\.6; etcd refuses a member older than the cluster version/);
    expect(await memberNames(client('node1'))).toEqual(['node1', 'node2']);

    lab('etcd', 'node3', '3.6'); // the operator installs the cluster's version and runs it again
    const r = await (await startRun(env!, expandCluster, { ...base(), add: ['node3'] })).result();
    expect(r).toMatchObject({ outcome: 'completed', voters: 3 });
    expect(await versionOf('node3')).toBe('3.6.16');
  });
});
