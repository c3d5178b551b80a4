import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest, loadInventoryFile } from '../../inventory/load';
import { upgradeCluster } from '../../workflows';
import type { RunbookProgress } from '../../domain/progress';
import { describeFailure } from '../../client/failure';
import { freshLabWith, INVENTORY, lab, labClientCredentials, onNode } from '../support/lab';
import { brokenEtcd, releaseBinaries, stageFile, stageRelease } from '../support/releases';
import { memberClient } from '../support/etcd';
import { expectSafe, writeBulk } from '../support/cluster';
import { startWriter } from '../support/writer';
import { startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(15 * 60_000);

const NODES = ['node1', 'node2', 'node3'];
const FROM = '3.5.35';
const TO = '3.6.16';

// Rolling upgrade of a 3-member etcd 3.5.35 cluster (systemd) to 3.6.16 on one lab boot, the
// release staged by the "operator" under the inventory's systemd.releasesDir on every node: first a
// release that does not start on the second member (every member put back on 3.5.35), then the
// real one under a steady writer. Judged from each member's own endpoint.
describe('upgrade on the lab (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let all: Etcd3;
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' });
  /** Each member's version and raft term, from its own endpoint. */
  const members = async () => Object.fromEntries(await Promise.all(NODES.map(async (n) => {
    const c = memberClient(inv, n);
    try {
      const s = await c.maintenance.status();
      return [n, { version: s.version, term: Number(s.raftTerm), leader: s.leader === s.header.member_id }] as const;
    } finally {
      c.close();
    }
  })));
  beforeAll(async () => {
    inv = freshLabWith(3, 3, { etcd: '3.5' });
    stageRelease(INVENTORY, NODES, TO);
    inv = loadInventoryFile(INVENTORY);
    all = new Etcd3({ hosts: inv.nodes.map((n) => n.etcd.clientURL), credentials: labClientCredentials(), dialTimeout: 3000 });
    await writeBulk(all, 'bulk/', 50);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    all?.close();
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('a release that does not start on the second member: every member this run upgraded is put back on 3.5.35', async () => {
    const before = await members();
    const order = [...NODES.filter((n) => !before[n].leader), ...NODES.filter((n) => before[n].leader)];
    // It answers --version as 3.6.16 (so the pre-flight passes) and exits 1 otherwise.
    stageFile(order[1], TO, 'etcd', brokenEtcd(TO));
    try {
      const h = await startRun(env, upgradeCluster, { ...base(), version: TO });
      const err = await h.result().catch((e) => e);
      expect(describeFailure('upgradeCluster', err)[0]).toMatch(new RegExp(`^upgradeCluster failed and was undone: failed: ${order[1]}: etcd failed to start`));
      const p: RunbookProgress = await h.query('progress');
      console.log(`upgrade rolled back: ${p.steps.map((s) => `${s.id} ${s.status}${s.detail ? ` (${s.detail.slice(0, 100)})` : ''}`).join('; ')}`);
      expect(p.steps.find((s) => s.id === `rollback:${order[0]}`)?.status).toBe('compensated');
    } finally {
      stageFile(order[1], TO, 'etcd', readFileSync(join(releaseBinaries(TO), 'etcd')));
    }
    const after = await members();
    expect(NODES.map((n) => after[n].version)).toEqual([FROM, FROM, FROM]);
    for (const n of NODES) expect(onNode(n, 'ls /etc/systemd/system/etcd.service.d/')).not.toMatch(/zz-etcd-runbooks-release\.conf\b/);
    await expectSafe(inv, 3);
  });

  test('3.5.35 -> 3.6.16 under a steady writer: followers first, the leader last; 0 failed writes; cluster version 3.6.0', async () => {
    const before = await members();
    const own = NODES.map((n) => memberClient(inv, n));
    const writer = startWriter(own, '/steady/', 20);
    const started = Date.now();
    const h = await startRun(env, upgradeCluster, { ...base(), version: TO });
    const r = await h.result();
    const seconds = (Date.now() - started) / 1000;
    const written = await writer.stop();
    own.forEach((c) => c.close());
    const after = await members();
    const p: RunbookProgress = await h.query('progress');
    const elections = after.node1.term - before.node1.term;
    console.log(`upgrade ${FROM} -> ${TO} (3 members, 50 MiB): ${seconds.toFixed(1)} s; ${p.steps.filter((s) => s.id.startsWith('upgrade:')).map((s) => `${s.id} ${s.detail}`).join('; ')}; `
      + `writes ${written.writes} (${written.failovers} taken by another member), failed ${written.errors.length}${written.errors.length ? ` (${written.errors[0]})` : ''}; leader elections (raft term) ${elections}`);
    expect(NODES.map((n) => after[n].version)).toEqual([TO, TO, TO]);
    expect(r.clusterVersion).toBe('3.6.0');
    const upgrades = p.steps.filter((s) => s.id.startsWith('upgrade:')).map((s) => s.node);
    expect(upgrades[2]).toBe(NODES.find((n) => before[n].leader));
    expect(written.errors).toEqual([]);
    expect(elections).toBeLessThanOrEqual(3);
    await expectSafe(inv, 3);
  });
});
