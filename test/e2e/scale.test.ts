import { appendFileSync } from 'node:fs';
import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { backupCluster, progressQuery, restoreCluster } from '../../workflows';
import { MIN_AUTO_BUMP } from '../../domain/revisionBump';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { localKeyNames, memberClient } from '../support/etcd';
import { writeBulk } from '../support/cluster';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(30 * 60_000);

const NODES = ['node1', 'node2', 'node3'];
const MIB = 520;

// A restore the size users have: a database over 500 MB on etcd 3.6, restored onto another node
// than the one holding the snapshot, for a cluster that backs Kubernetes (revision bumped).
describe('scale: restore of a database over 500 MB', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  const clients: Record<string, Etcd3> = {};
  const client = (node: string) => (clients[node] ??= memberClient(inv, node));
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });

  beforeAll(async () => {
    inv = freshLabWith(3, 3);
    appendFileSync(INVENTORY, 'backsKubernetes: true\n');
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    Object.values(clients).forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test(`${MIB} MiB: streamed, trial-restored, bumped past every revision seen and marked compacted; every key back`, async () => {
    await writeBulk(client('node1'), 'big/', MIB);
    const db = (await client('node1').maintenance.status()).dbSize;
    expect(Number(db)).toBeGreaterThan(500 * 2 ** 20);
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 1 })).result();
    const restoreOn = NODES.find((n) => n !== backup.node)!;
    const started = Date.now();
    const h = await startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, restoreOn, members: [restoreOn, ...NODES.filter((n) => n !== restoreOn)] });
    const r = await h.result();
    const steps = (await h.query(progressQuery)).steps;
    console.log(`restore of a ${(backup.sizeBytes / 2 ** 20).toFixed(0)} MiB snapshot onto ${restoreOn}: ${((Date.now() - started) / 1000).toFixed(1)} s; copy: ${steps.find((s) => s.id === 'copy-snapshot')?.detail}; trial restore: ${steps.find((s) => s.id === 'trial-restore')?.detail}`);

    expect(r.revisionBump).toBeGreaterThanOrEqual(MIN_AUTO_BUMP);
    expect(r.revisionBump).toBeGreaterThanOrEqual(2 * (r.liveRevisionBefore ?? 0));
    expect(r.restoredRevision).toBe(backup.revision + (r.revisionBump ?? 0));
    expect(steps.find((s) => s.id === 'copy-snapshot')?.detail).toMatch(/bytes streamed/);
    for (const n of NODES) {
      expect((await eventually(`${n} serves reads`, () => localKeyNames(client(n), 'big/'))).length).toBe(MIB);
    }
    // Marked compacted: a read at the snapshot's revision is refused, so watchers relist.
    await expect(client(restoreOn).get('big/00000').revision(backup.revision).exec()).rejects.toThrow(/compacted/);
  });
});
