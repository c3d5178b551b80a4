import type { WorkflowHandle } from '@temporalio/client';
import { upgradeCluster } from '../../../workflows';
import type { RunbookProgress } from '../../../domain/progress';
import { INVENTORY, lab } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { leaderNode } from '../../support/etcd';
import { stageRelease } from '../../support/releases';
import { startRun } from '../../support/temporal';
import { cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

const NODES = ['node1', 'node2', 'node3'];
const FROM = '3.5.35';
const TO = '3.6.16';

// upgrade 3.5.35 -> 3.6.16 of a 3-member cluster holding 200 MiB, one fault per case, on one lab
// boot: every case but the last ends with every member back on 3.5.35, the start of the next.
// Asserted from etcd itself (each member's version from its own endpoint).
describe('fault matrix: upgrade', () => {
  const m = new Matrix('upgrade');
  let followers: string[] = [];
  let run: WorkflowHandle | undefined;
  const upgrade = async () => (run = await startRun(m.env, upgradeCluster, { ...m.base(), version: TO, approvedBy: 'e2e' }));
  const versions = async () => Promise.all(NODES.map(async (n) => (await m.etcd(n).maintenance.status()).version));
  beforeAll(async () => {
    await m.freshLab(3, 3, { etcd: '3.5' });
    stageRelease(INVENTORY, NODES, TO);
  });
  afterAll(() => m.stop());
  beforeEach(async () => {
    const leader = await leaderNode(m.inv, Object.fromEntries(NODES.map((n) => [n, m.etcd(n)])));
    followers = NODES.filter((n) => n !== leader);
  });
  afterEach(async () => {
    const p = await run?.query<RunbookProgress>('progress').catch(() => undefined);
    console.log(`upgrade steps: ${p?.steps.map((s) => `${s.id} ${s.status}${s.detail ? ` (${s.detail.slice(0, 120)})` : ''}`).join('; ')}`);
  });

  test('SSH-only loss of the second follower: its member cannot be restarted; the first is put back, all on 3.5.35', async () => {
    await m.runCase('ssh-only', { end: 'undone', minVoters: 3, members: NODES }, async () => {
      const h = await upgrade();
      // Blocked while the first follower is upgraded, so that the second's step finds no SSH
      // before it stops anything (the loss after its stop is the crash case below).
      await m.stepReaches(h, `upgrade:${followers[0]}`, ['running']);
      lab('block', followers[1], 'ssh');
      return h;
    }, () => lab('unblock', followers[1]));
    expect(await versions()).toEqual([FROM, FROM, FROM]);
  });

  test('cancel while the second follower is upgraded: both put back, all on 3.5.35', async () => {
    await m.runCase('cancel', { end: 'undone', minVoters: 3, members: NODES }, async () => {
      const h = await upgrade();
      await m.stepReaches(h, `upgrade:${followers[1]}`, ['running']);
      await cancelAs(h);
      return h;
    });
    expect(await versions()).toEqual([FROM, FROM, FROM]);
  });

  test('full backup dir on the leader: the snapshot fails before any member is touched', async () => {
    const leader = NODES.find((n) => !followers.includes(n))!;
    lab('smalldisk', leader, '/var/backups/etcd-runbooks', '1M');
    try {
      await m.runCase('full disk', { end: 'undone', minVoters: 3, members: NODES }, upgrade);
    } finally {
      lab('bigdisk', leader, '/var/backups/etcd-runbooks');
    }
    const steps = (await run!.query<RunbookProgress>('progress')).steps;
    expect(steps.find((s) => s.id === 'snapshot')?.status).toBe('failed');
    expect(steps.filter((s) => s.id.startsWith('upgrade:') && s.status !== 'pending')).toEqual([]);
    expect(await versions()).toEqual([FROM, FROM, FROM]);
  });

  test('crash of the second follower while it is upgraded: the first stays on 3.6.16 rather than cost the quorum; both named as left over', async () => {
    const [first, second] = followers;
    const leader = NODES.find((n) => !followers.includes(n))!;
    await m.runCase('crash', { end: 'undone', minVoters: 2, leftoverOn: [second, first] }, async () => {
      const h = await upgrade();
      await m.stepReaches(h, `upgrade:${second}`, ['running']);
      lab('crash', second);
      return h;
    }, () => lab('start', second));
    // Restarting the first follower while the second was down would have left one member of three:
    // its undo refused, and the cluster kept serving on the leader and the first follower.
    const left = (await run!.query<RunbookProgress>('progress')).leftovers ?? [];
    expect(left.find((l) => l.node === first)?.what).toMatch(/the quorum needs 2 voters/);
    expect((await m.etcd(first).maintenance.status()).version).toBe(TO);
    expect((await m.etcd(leader).maintenance.status()).version).toBe(FROM);
  });
});
