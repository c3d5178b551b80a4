import { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { defragCluster, rotateCerts } from '../../workflows';
import { describeFailure } from '../../client/failure';
import { servedCertificates } from '../support/certs';
import { headNodeCA } from '../support/inventoryEdit';
import type { RunbookProgress } from '../../domain/progress';
import { freshLabWith, INVENTORY, lab, labClientCredentials, onNode } from '../support/lab';
import { loadInventoryFile } from '../../inventory/load';
import { memberClient } from '../support/etcd';
import { writeBulk } from '../support/cluster';
import { startWriter } from '../support/writer';
import { startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(10 * 60_000);

const MiB = 2 ** 20;
const QUOTA = 24 * MiB;
const NODES = ['node1', 'node2', 'node3'];

// The maintenance runbooks on one lab boot (3 members, a 24 MiB backend quota): each scenario
// judged from etcd itself (each member's own status, the alarm list, a write, the certificates its
// URLs serve). Faults: matrix/defrag.test.ts.
describe('maintenance on the lab (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let all: Etcd3;
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY) });
  /** Each member's own status: db size, size in use, raft term. */
  const statuses = async () => Object.fromEntries(await Promise.all(NODES.map(async (n) => {
    const c = memberClient(inv, n);
    try {
      const s = await c.maintenance.status();
      return [n, { dbSize: Number(s.dbSize), inUse: Number(s.dbSizeInUse), term: Number(s.raftTerm), leader: s.leader, id: s.header.member_id }] as const;
    } finally {
      c.close();
    }
  })));
  const throwaway = async (fn: (c: Etcd3) => Promise<unknown>) => {
    const c = new Etcd3({ hosts: inv.nodes.map((n) => n.etcd.clientURL), credentials: labClientCredentials(), dialTimeout: 3000 });
    try {
      await fn(c);
    } finally {
      c.close();
    }
  };
  const alarms = async () => (await all.maintenance.alarm({ action: 'Get', alarm: 'None', memberID: 0 })).alarms.map((a) => a.alarm);
  /** Writes `mib` MiB under `prefix`, deletes it and compacts: the file keeps its size, most pages free. */
  const fragment = async (prefix: string, mib: number) => {
    await writeBulk(all, prefix, mib);
    await all.delete().prefix(prefix).exec();
    const rev = (await all.get('x').exec()).header.revision;
    await all.kv.compact({ revision: rev, physical: true });
  };

  beforeAll(async () => {
    inv = freshLabWith(3, 3, { quotaBytes: QUOTA });
    headNodeCA(INVENTORY);
    inv = loadInventoryFile(INVENTORY);
    all = new Etcd3({ hosts: inv.nodes.map((n) => n.etcd.clientURL), credentials: labClientCredentials(), dialTimeout: 3000 });
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    all?.close();
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('defrag under a steady writer: followers first, the leader last; every file shrinks; 0 failed writes; one election (the handover)', async () => {
    await fragment('/frag/', 12);
    const before = await statuses();
    const leader = NODES.find((n) => before[n].leader === before[n].id)!;
    const writer = startWriter(all, '/steady/', 20);
    const h = await startRun(env, defragCluster, { ...base() });
    const r = await h.result();
    const written = await writer.stop();
    const after = await statuses();
    const p: RunbookProgress = await h.query('progress');
    const defrags = p.steps.filter((s) => s.id.startsWith('defrag:')).map((s) => s.id);
    console.log(`defrag (3 members, ${NODES.map((n) => `${n} ${(before[n].dbSize / MiB).toFixed(1)} -> ${(after[n].dbSize / MiB).toFixed(1)} MiB`).join(', ')}): `
      + `${p.steps.filter((s) => s.id.startsWith('defrag:')).map((s) => `${s.id} ${s.detail}`).join('; ')}; writes ${written.writes}, failed ${written.errors.length}, `
      + `raft term ${before.node1.term} -> ${after.node1.term}`);
    expect(r.members.filter((m) => !m.skipped)).toHaveLength(3);
    expect(defrags[2]).toBe(`defrag:${leader}`);
    for (const n of NODES) expect(after[n].dbSize).toBeLessThan(before[n].dbSize / 2);
    expect(written.errors).toEqual([]);
    expect(written.writes).toBeGreaterThan(0);
    // The handover off the leader is one election; no member's rewrite may cause another.
    expect(after.node1.term - before.node1.term).toBeLessThanOrEqual(1);
    expect(new Set(NODES.map((n) => after[n].term)).size).toBe(1);
  });

  test('defrag --offline under a steady writer: each member stopped, etcdutl defrag, started; files shrink, owned by etcd; 0 failed writes', async () => {
    await fragment('/frag-offline/', 12);
    const before = await statuses();
    const writer = startWriter(NODES.map((n) => memberClient(inv, n)), '/steady-offline/', 20);
    const h = await startRun(env, defragCluster, { ...base(), offline: true });
    const r = await h.result();
    const written = await writer.stop();
    const after = await statuses();
    const p: RunbookProgress = await h.query('progress');
    console.log(`defrag --offline (3 members, ${NODES.map((n) => `${n} ${(before[n].dbSize / MiB).toFixed(1)} -> ${(after[n].dbSize / MiB).toFixed(1)} MiB`).join(', ')}): `
      + `${p.steps.filter((s) => s.id.startsWith('defrag:')).map((s) => `${s.id} ${s.detail}`).join('; ')}; writes ${written.writes} (${written.failovers} taken by another member), failed ${written.errors.length}, `
      + `raft term ${before.node1.term} -> ${after.node1.term}`);
    expect(r.members.filter((m) => !m.skipped).map((m) => m.offline)).toEqual([expect.stringMatching(/^etcdutl 3\.6\./), expect.stringMatching(/^etcdutl/), expect.stringMatching(/^etcdutl/)]);
    for (const n of NODES) {
      expect(after[n].dbSize).toBeLessThan(before[n].dbSize / 2);
      expect(onNode(n, 'stat -c %U /var/lib/etcd/default/member/snap/db; ls /var/lib/etcd').trim()).toBe('etcd\ndefault');
    }
    expect(written.errors).toEqual([]);
  });

  test('NOSPACE: filled to the quota, keys deleted and compacted: defrag rewrites, disarms, and writes are accepted', async () => {
    // The refused writes go through clients of their own: etcd3's circuit breaker opens on a
    // client after 3 failures in a row, and would refuse the reads that follow.
    await throwaway((c) => writeBulk(c, '/fill/', 40).catch((e: Error) => expect(e.message).toMatch(/database space exceeded/)));
    expect(await alarms()).toContain('Nospace');
    await throwaway((c) => expect(c.put('/after-fill').value('x').exec()).rejects.toThrow(/database space exceeded/));
    await all.delete().prefix('/fill/').exec();
    const rev = (await all.get('x').exec()).header.revision;
    await all.kv.compact({ revision: rev, physical: true });
    const h = await startRun(env, defragCluster, { ...base() });
    const r = await h.result();
    expect(r.disarmed).toBe(true);
    expect(await alarms()).toEqual([]);
    await all.put('/after-defrag').value('ok').exec();
    expect(await all.get('/after-defrag').string()).toBe('ok');
    const after = await statuses();
    for (const n of NODES) expect(after[n].dbSize).toBeLessThan(QUOTA * 0.9);
    const p: RunbookProgress = await h.query('progress');
    console.log(`defrag NOSPACE: ${p.steps.map((s) => `${s.id} ${s.status}${s.detail ? ` (${s.detail})` : ''}`).join('; ')}`);
  });

  test('rotate-certs, the second member\'s renewal refused: the first member\'s certificates are put back and served again', async () => {
    const before = await servedCertificates(inv, NODES);
    // node2's CA file no longer names the CA that signs: the renewed certificate does not chain there.
    onNode('node2', 'cp -p /etc/etcd/pki/ca.crt /etc/etcd/pki/ca.crt.real && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout /dev/null -subj /CN=other -days 1 -out /etc/etcd/pki/ca.crt 2>/dev/null');
    try {
      const h = await startRun(env, rotateCerts, { ...base(), approvedBy: 'e2e', days: 30 });
      const err = await h.result().catch((e) => e);
      expect(describeFailure('rotateCerts', err)[0]).toMatch(/^rotateCerts failed and was undone: failed: .*does not chain to \/etc\/etcd\/pki\/ca\.crt.*; the previous certificates of node1, node2 are back in place/);
    } finally {
      onNode('node2', 'mv -f /etc/etcd/pki/ca.crt.real /etc/etcd/pki/ca.crt');
    }
    expect(await servedCertificates(inv, NODES)).toEqual(before);
  });

  test('rotate-certs under a steady writer: every member serves certificates valid 30 days, 0 failed writes, no restart', async () => {
    const before = await servedCertificates(inv, NODES);
    const terms = await statuses();
    const own = NODES.map((n) => memberClient(inv, n));
    const writer = startWriter(own, '/certs/', 20);
    const started = Date.now();
    const h = await startRun(env, rotateCerts, { ...base(), approvedBy: 'e2e', days: 30 });
    const r = await h.result();
    const seconds = (Date.now() - started) / 1000;
    const written = await writer.stop();
    own.forEach((c) => c.close());
    const after = await servedCertificates(inv, NODES);
    const p: RunbookProgress = await h.query('progress');
    console.log(`rotate-certs (3 members): ${seconds.toFixed(1)} s; ${p.steps.filter((s) => s.id.startsWith('rotate:')).map((s) => `${s.id} ${s.detail}`).join('; ')}; writes ${written.writes}, failed ${written.errors.length}`);
    const in30 = Date.now() + 30 * 86400_000;
    for (const n of NODES) {
      for (const k of ['client', 'peer'] as const) {
        expect(Math.abs(Date.parse(after[n][k].notAfter) - in30)).toBeLessThan(600_000);
        expect(after[n][k].subjectAltName).toBe(before[n][k].subjectAltName);
      }
    }
    expect(r.nodes.map((x) => x.node)).toEqual(NODES);
    expect(written.errors).toEqual([]);
    expect((await statuses()).node1.term).toBe(terms.node1.term);
  });
});
