import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { backupCluster, expandCluster, progressQuery, recoverQuorum, replaceMember, restoreCluster } from '../../workflows';
import { errorMessage } from '../../workflows/steps';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { localKeyNames, memberClient, memberNames, writeKeys } from '../support/etcd';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';
import type { VersionRow } from '../support/versionTable';

jest.setTimeout(30 * 60_000);

const NODES = ['node1', 'node2', 'node3'];
const RELEASE = { '3.4': '3.4.23', '3.5': '3.5.35', '3.6': '3.6.16' } as const;
type Minor = keyof typeof RELEASE;

// The reduced matrix (expand, replace, restore, recover-quorum) on each etcd version the lab runs;
// the rest of the e2e suite runs on 3.6, the lab's default. Rows go to .state/version-matrix/.
describe.each(Object.keys(RELEASE) as Minor[])('etcd %s on the lab', (version) => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  const clients: Record<string, Etcd3> = {};
  const rows: VersionRow[] = [];
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  const client = (node: string) => (clients[node] ??= memberClient(inv, node));
  const keysOn = async (node: string, prefix: string) => (await eventually(`${node} serves reads`, () => localKeyNames(client(node), prefix))).length;
  // Times the runbook and records a row whatever happens.
  const timed = async <T>(runbook: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    let ok = false;
    try {
      const r = await run();
      ok = true;
      return r;
    } finally {
      rows.push({ runbook, version: RELEASE[version], ok, seconds: (Date.now() - started) / 1000 });
    }
  };

  beforeAll(async () => {
    inv = freshLabWith(3, 1, { etcd: version });
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    Object.values(clients).forEach((c) => c.close());
    await env?.stop();
    const dir = join(__dirname, '..', '..', '.state', 'version-matrix');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${version}.json`), JSON.stringify(rows, null, 2));
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test(`expand 1 -> 3: three voters, all on ${RELEASE[version]}, the plan shows the versions`, async () => {
    await writeKeys(client('node1'), 'v/', 300);
    const h = await startRun(env, expandCluster, { ...base(), add: ['node2', 'node3'] });
    const r = await timed('expand 1->3', () => h.result());
    expect(r).toMatchObject({ outcome: 'completed', voters: 3 });
    const liveness = (await h.query(progressQuery)).liveness ?? [];
    expect(liveness[0]).toContain(`etcd ${RELEASE[version]}`);
    expect(liveness.at(-1)).toBe(`versions: cluster ${version}.0 (reported by etcd); node2 has etcd ${RELEASE[version]}; node3 has etcd ${RELEASE[version]}`);
    for (const n of NODES) {
      expect((await client(n).maintenance.status()).version).toBe(RELEASE[version]);
      expect(await keysOn(n, 'v/')).toBe(300);
    }
  });

  test('replace a crashed member with the same node after its disk was lost', async () => {
    lab('crash', 'node3');
    lab('wipe', 'node3');
    lab('start', 'node3');
    const r = await timed('replace', async () => (await startRun(env, replaceMember, { ...base(), failed: 'node3' })).result());
    expect(r).toMatchObject({ removed: 'node3', added: 'node3', voters: 3 });
    expect(await memberNames(client('node1'))).toEqual(NODES);
    expect(await keysOn('node3', 'v/')).toBe(300);
  });

  test('restore onto another node than the snapshot\'s: every key back; a revision bump where the tool has one', async () => {
    const backup = await (await startRun(env, backupCluster, { ...base(), keep: 2 })).result();
    await writeKeys(client('node1'), 'after/', 20);
    const restoreOn = NODES.find((n) => n !== backup.node)!;
    const members = [restoreOn, ...NODES.filter((n) => n !== restoreOn)];
    const bump = 1_000_000;
    if (version === '3.4') {
      // etcdctl 3.4 has no --bump-revision: refused before anything is fenced, then restored without.
      const refused = await startRun(env, restoreCluster, { ...base(), snapshot: { node: backup.node, path: backup.path }, restoreOn, members, bumpRevision: bump });
      expect(errorMessage(await refused.result().catch((e) => e))).toMatch(/pre-flight refused: before fencing: .*etcdctl 3\.4\.23 cannot bump the revision/);
      expect((await client('node1').maintenance.status()).version).toBe('3.4.23');
    }
    const r = await timed('restore', async () => (await startRun(env, restoreCluster, {
      ...base(), snapshot: { node: backup.node, path: backup.path }, restoreOn, members, bumpRevision: version === '3.4' ? 0 : bump,
    })).result());
    expect(r.members).toEqual([...NODES].sort());
    expect(r.revisionBump).toBe(version === '3.4' ? 0 : bump);
    expect(r.restoredRevision).toBe(backup.revision + (version === '3.4' ? 0 : bump));
    for (const n of NODES) {
      expect(await keysOn(n, 'v/')).toBe(300);
      expect(await keysOn(n, 'after/')).toBe(0);
    }
  });

  test('recover-quorum after 2 of 3 members crash: the survivor forms a new cluster, the others rejoin', async () => {
    const survivor = 'node1';
    await writeKeys(client(survivor), 'q/', 50);
    lab('crash', 'node2');
    lab('crash', 'node3');
    const h = await startRun(env, recoverQuorum, { ...base(), members: NODES, waitForNodesSeconds: 300 });
    const r = await timed('recover-quorum', async () => {
      await eventually('the survivor recovered alone', async () => {
        const p = await h.query(progressQuery);
        return p.steps.find((s) => s.id.startsWith('wait-reachable:'))?.status === 'running' ? p : undefined;
      }, 180_000);
      lab('start', 'node2');
      lab('start', 'node3');
      return h.result();
    });
    expect(r.members).toEqual(NODES);
    for (const n of NODES) expect(await keysOn(n, 'q/')).toBe(50);
  });
});
