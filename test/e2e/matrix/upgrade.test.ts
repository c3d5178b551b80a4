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
      await m.stepReaches(h, `upgrade:${followers[0]}`, ['done']);
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

  test('crash of the member being upgraded: the others are put back, the crashed node is named as left over', async () => {
    await m.runCase('crash', { end: 'undone', minVoters: 2, leftoverOn: [followers[0]] }, async () => {
      const h = await upgrade();
      await m.stepReaches(h, `upgrade:${followers[0]}`, ['running']);
      lab('crash', followers[0]);
      return h;
    }, () => lab('start', followers[0]));
    // The crashed node's undo could not reach it: the leftover says how to finish; the others run 3.5.35.
    const vs = await Promise.all(NODES.filter((n) => n !== followers[0]).map(async (n) => (await m.etcd(n).maintenance.status()).version));
    expect(vs).toEqual([FROM, FROM]);
  });
});
