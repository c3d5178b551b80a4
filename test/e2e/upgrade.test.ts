import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import YAML from 'yaml';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest, loadInventoryFile } from '../../inventory/load';
import { upgradeCluster } from '../../workflows';
import type { RunbookProgress } from '../../domain/progress';
import { describeFailure } from '../../client/failure';
import { freshLabWith, INVENTORY, LAB, LAB_ENV, lab, labClientCredentials, onNode } from '../support/lab';
import { memberClient } from '../support/etcd';
import { expectSafe, writeBulk } from '../support/cluster';
import { startWriter } from '../support/writer';
import { startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(15 * 60_000);

const NODES = ['node1', 'node2', 'node3'];
const FROM = '3.5.35';
const TO = '3.6.16';
const RELEASES = '/opt/etcd-releases';

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
  const stage = (node: string, name: string, content: Buffer) =>
    execFileSync(LAB, ['ssh', node, `mkdir -p ${RELEASES}/v${TO} && cat > ${RELEASES}/v${TO}/${name}.new && chmod 755 ${RELEASES}/v${TO}/${name}.new && mv -f ${RELEASES}/v${TO}/${name}.new ${RELEASES}/v${TO}/${name}`],
      { input: content, env: LAB_ENV, stdio: ['pipe', 'ignore', 'pipe'] });
  const bins = () => execFileSync(join(__dirname, '..', '..', 'lab', 'etcd-build.sh'), [`v${TO}`], { encoding: 'utf8' }).trim();

  beforeAll(async () => {
    inv = freshLabWith(3, 3, { etcd: '3.5' });
    for (const n of NODES) for (const t of ['etcd', 'etcdctl', 'etcdutl']) stage(n, t, readFileSync(join(bins(), t)));
    const doc = YAML.parse(readFileSync(INVENTORY, 'utf8')) as { systemd?: Record<string, unknown> };
    doc.systemd = { ...(doc.systemd ?? {}), releasesDir: RELEASES };
    writeFileSync(INVENTORY, YAML.stringify(doc));
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
    stage(order[1], 'etcd', Buffer.from(`#!/bin/sh\n[ "$1" = --version ] && { echo "etcd Version: ${TO}"; exit 0; }\necho broken release >&2\nexit 1\n`));
    try {
      const h = await startRun(env, upgradeCluster, { ...base(), version: TO });
      const err = await h.result().catch((e) => e);
      expect(describeFailure('upgradeCluster', err)[0]).toMatch(new RegExp(`^upgradeCluster failed and was undone: failed: ${order[1]}: etcd failed to start`));
      const p: RunbookProgress = await h.query('progress');
      console.log(`upgrade rolled back: ${p.steps.map((s) => `${s.id} ${s.status}${s.detail ? ` (${s.detail.slice(0, 100)})` : ''}`).join('; ')}`);
      expect(p.steps.find((s) => s.id === `rollback:${order[0]}`)?.status).toBe('compensated');
    } finally {
      stage(order[1], 'etcd', readFileSync(join(bins(), 'etcd')));
    }
    const after = await members();
    expect(NODES.map((n) => after[n].version)).toEqual([FROM, FROM, FROM]);
    for (const n of NODES) expect(onNode(n, 'ls /etc/systemd/system/etcd.service.d/')).not.toMatch(/zz-etcd-runbooks-release\.conf\b/);
    await expectSafe(inv, 3);
  });

  test('3.5.35 -> 3.6.16 under a steady writer: followers first, the leader last; 0 failed writes; cluster version 3.6.0', async () => {
    const before = await members();
    const writer = startWriter(all, '/steady/', 20);
    const started = Date.now();
    const h = await startRun(env, upgradeCluster, { ...base(), version: TO });
    const r = await h.result();
    const seconds = (Date.now() - started) / 1000;
    const written = await writer.stop();
    const after = await members();
    const p: RunbookProgress = await h.query('progress');
    const elections = after.node1.term - before.node1.term;
    console.log(`upgrade ${FROM} -> ${TO} (3 members, 50 MiB): ${seconds.toFixed(1)} s; ${p.steps.filter((s) => s.id.startsWith('upgrade:')).map((s) => `${s.id} ${s.detail}`).join('; ')}; `
      + `writes ${written.writes}, failed ${written.errors.length}${written.errors.length ? ` (${written.errors[0]})` : ''}; leader elections (raft term) ${elections}`);
    expect(NODES.map((n) => after[n].version)).toEqual([TO, TO, TO]);
    expect(r.clusterVersion).toBe('3.6.0');
    const upgrades = p.steps.filter((s) => s.id.startsWith('upgrade:')).map((s) => s.node);
    expect(upgrades[2]).toBe(NODES.find((n) => before[n].leader));
    expect(written.errors).toEqual([]);
    expect(elections).toBeLessThanOrEqual(3);
    await expectSafe(inv, 3);
  });
});
