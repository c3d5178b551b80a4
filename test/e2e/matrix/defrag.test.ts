import type { WorkflowHandle } from '@temporalio/client';
import { defragCluster } from '../../../workflows';
import type { RunbookProgress } from '../../../domain/progress';
import { lab, onNode } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { leaderNode } from '../../support/etcd';
import { writeBulk } from '../../support/cluster';
import { eventually, startRun } from '../../support/temporal';
import { cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

const NODES = ['node1', 'node2', 'node3'];

// defrag of a 3-member cluster holding 200 MiB, with 100 MiB of free pages made before each case
// (written, deleted, compacted), one fault per case, on one lab boot: a rewrite changes no
// membership, so a case leaves nothing the next must start without. Asserted from etcd itself.
describe('fault matrix: defrag', () => {
  const m = new Matrix('defrag');
  let followers: string[] = [];
  let run: WorkflowHandle | undefined;
  // Every member rewritten whatever its free pages: the cases are about faults, not the threshold.
  const defrag = async () => (run = await startRun(m.env, defragCluster, { ...m.base(), minFreePercent: 0 }));
  beforeAll(() => m.freshLab(3, 3));
  afterAll(() => m.stop());
  beforeEach(async () => {
    const c = m.etcd('node1');
    await writeBulk(c, 'frag/', 100);
    await c.delete().prefix('frag/').exec();
    await c.kv.compact({ revision: (await c.get('x').exec()).header.revision, physical: true });
    // A member healed by the last case catches up before the next run: the runbook refuses to
    // start while any member fails a linearizable read (seen: 10-20 s after an etcd-only block).
    const own = Object.fromEntries(NODES.map((n) => [n, m.etcd(n)]));
    await eventually('every member answers a linearizable read', async () => ((await Promise.all(NODES.map((n) => own[n].get('health').exec()))) ? true : undefined), 120_000);
    const leader = await leaderNode(m.inv, own);
    followers = NODES.filter((n) => n !== leader);
  });
  afterEach(async () => {
    const p = await run?.query<RunbookProgress>('progress').catch(() => undefined);
    console.log(`defrag steps: ${p?.steps.map((s) => `${s.id} ${s.status}${s.detail ? ` (${s.detail.slice(0, 160)})` : ''}`).join('; ')}`);
  });
  const step = async (node: string) => (await run!.query<RunbookProgress>('progress')).steps.find((s) => s.id === `defrag:${node}`);

  test('SSH-only loss of a follower: completes, that member skipped and named (its disk cannot be checked), the others rewritten', async () => {
    await m.runCase('ssh-only', { end: 'completed', minVoters: 3, members: NODES }, async () => {
      lab('block', followers[1], 'ssh');
      return defrag();
    }, () => lab('unblock', followers[1]));
    expect((await step(followers[1]))?.detail).toMatch(/^free disk of its data dir unknown/);
    expect((await step(followers[0]))?.detail).toMatch(/MiB -> .* in /);
  });

  test('etcd-only loss of the second follower while the first is rewritten: stops at a safe point before rewriting another member', async () => {
    await m.runCase('etcd-only', { end: 'safe point', minVoters: 3, members: NODES }, async () => {
      const h = await defrag();
      await m.stepReaches(h, `defrag:${followers[0]}`, ['running']);
      lab('block', followers[1], 'etcd');
      return h;
    }, () => lab('unblock', followers[1]));
    const steps = (await run!.query<RunbookProgress>('progress')).steps;
    // The first follower was rewritten, or refused at its own check when the block came first; no other one was.
    expect(steps.filter((s) => s.id.startsWith('defrag:') && s.status === 'done' && s.node !== followers[0])).toEqual([]);
  });

  test('crash of the member being rewritten: stops at a safe point, no other member touched', async () => {
    await m.runCase('crash', { end: 'safe point', minVoters: 3, members: NODES }, async () => {
      const h = await defrag();
      await m.stepReaches(h, `defrag:${followers[0]}`, ['running']);
      lab('crash', followers[0]);
      return h;
    }, () => lab('start', followers[0]));
    const steps = (await run!.query<RunbookProgress>('progress')).steps;
    // Never rewritten (a later step may have refused at its own check: failed, not done).
    expect(steps.filter((s) => s.id.startsWith('defrag:') && s.node !== followers[0] && s.status === 'done')).toEqual([]);
  });

  test('cancel during the first rewrite: stops at a safe point once it ended, no other member touched', async () => {
    await m.runCase('cancel', { end: 'safe point', minVoters: 3, members: NODES }, async () => {
      const h = await defrag();
      await m.stepReaches(h, `defrag:${followers[0]}`, ['running']);
      await cancelAs(h);
      return h;
    });
    const steps = (await run!.query<RunbookProgress>('progress')).steps;
    // Never rewritten (a later step may have refused at its own check: failed, not done).
    expect(steps.filter((s) => s.id.startsWith('defrag:') && s.node !== followers[0] && s.status === 'done')).toEqual([]);
  });

  test('full disk where it writes (the second follower\'s data dir on a filesystem without room for the new file): that member skipped and named, the others rewritten', async () => {
    const f = followers[1];
    const dd = '/var/lib/etcd/default';
    // The member's data dir moved onto a tmpfs 40 MiB larger than it: the rewrite needs its size in use +10% +64 MiB.
    onNode(f, `systemctl stop etcd && rm -rf /root/dd && cp -a ${dd} /root/dd`);
    const mib = Number(onNode(f, 'du -sm /root/dd | cut -f1').trim());
    lab('smalldisk', f, dd, `${mib + 40}m`);
    onNode(f, `cp -a /root/dd/. ${dd}/ && rm -rf /root/dd && systemctl start etcd`);
    try {
      const own = m.etcd(f);
      await eventually(`${f} serves from the small disk`, async () => ((await own.maintenance.status()) ? true : undefined), 120_000);
      // Nothing is written after beforeEach's compaction until the run verifies: etcd 3.6 hashes a
      // member restarted since the last compaction differently from the others at exactly the
      // compacted revision (seen here: `hashkv --rev=<compacted>` differs, one revision later
      // agrees; etcd issues 14457, 18337). The final check waits for a newer revision and compares
      // there: the write comes while it waits, as a live cluster's would.
      await m.runCase('full disk', { end: 'completed', minVoters: 3, members: NODES }, async () => {
        const h = await defrag();
        await m.stepReaches(h, 'verify', ['running']);
        await new Promise((r) => setTimeout(r, 3000));
        await m.etcd('node1').put('after-compaction').value('x').exec();
        return h;
      });
    } finally {
      // Back onto its own disk with what it holds now.
      onNode(f, `systemctl stop etcd && rm -rf /root/dd && cp -a ${dd} /root/dd`);
      lab('bigdisk', f, dd);
      onNode(f, `rm -rf ${dd} && mv /root/dd ${dd} && systemctl start etcd`);
    }
    expect((await step(f))?.detail).toMatch(/^not enough free disk for the rewrite: [0-9.]+ MiB free, needs [0-9.]+ MiB/);
    expect((await step(followers[0]))?.detail).toMatch(/MiB -> .* in /);
  });
});
