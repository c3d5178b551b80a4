import { backupCluster, progressQuery, restoreCluster } from '../../../workflows';
import { lab } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { eventually, startRun } from '../../support/temporal';
import { approveAs, cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

const NODES = ['node1', 'node2', 'node3'];

// restore a 200 MiB snapshot onto another node than the one holding it, one fault per case.
describe('fault matrix: restore', () => {
  const m = new Matrix('restore');
  let backup: { node: string; path: string };
  let restoreOn: string;
  const restore = (approved = true) => startRun(m.env, restoreCluster, {
    ...m.base(), snapshot: { node: backup.node, path: backup.path }, restoreOn, members: [restoreOn, ...NODES.filter((n) => n !== restoreOn)], ...(approved ? { approvedBy: 'e2e' } : {}),
  });
  afterAll(() => m.stop());
  beforeEach(async () => {
    await m.freshLab(3, 3);
    backup = await (await startRun(m.env, backupCluster, { ...m.base(), keep: 2, approvedBy: 'e2e' })).result();
    restoreOn = NODES.find((n) => n !== backup.node)!;
  });

  test('SSH-only loss of a member: refused (it could not be fenced), the cluster keeps serving', () => m.runCase('ssh-only', { end: 'refused', minVoters: 3 }, async () => {
    lab('block', NODES.find((n) => n !== backup.node && n !== restoreOn)!, 'ssh');
    return restore();
  }, () => lab('unblock', NODES.find((n) => n !== backup.node && n !== restoreOn)!)));

  test('etcd-only loss of a member while the others are fenced, healed once the restore serves: completes', () => m.runCase('etcd-only', { end: 'completed', minVoters: 3, members: NODES }, async () => {
    const victim = NODES.find((n) => n !== restoreOn)!;
    const h = await restore();
    await m.stepReaches(h, `fence:${restoreOn}`, ['done']);
    lab('block', victim, 'etcd');
    await m.stepReaches(h, `start-restored:${restoreOn}`, ['done']);
    lab('unblock', victim);
    return h;
  }));

  test('the restore node frozen for 12 s during the copy: completes', () => m.runCase('freeze', { end: 'completed', minVoters: 3, members: NODES }, async () => {
    const h = await restore();
    await m.stepReaches(h, 'copy-snapshot', ['running']);
    await m.freezeFor(restoreOn);
    return h;
  }));

  test('the restore node crashes during the copy: refused before any member is fenced', () => m.runCase('crash', { end: 'refused', minVoters: 3 }, async () => {
    const h = await restore();
    await m.stepReaches(h, 'copy-snapshot', ['running']);
    lab('crash', restoreOn);
    return h;
  }, async () => {
    lab('start', restoreOn);
    await eventually('the crashed member serves again', async () => ((await m.etcd(restoreOn).maintenance.status()).leader !== '0' ? true : undefined));
  }));

  test('no room for the copy on the restore node: refused before fencing', () => m.runCase('full disk', { end: 'refused', minVoters: 3 }, async () => {
    lab('smalldisk', restoreOn, '/var/backups/etcd-runbooks', '50M');
    return restore();
  }, () => lab('bigdisk', restoreOn, '/var/backups/etcd-runbooks')));

  test('cancel after the first member was fenced: every data dir back, etcd serving as before', () => m.runCase('cancel', { end: 'undone', minVoters: 3 }, async () => {
    const h = await restore(false);
    await eventually('fence approval asked', async () => ((await h.query(progressQuery)).pendingApproval?.step === 'fence' ? true : undefined), 300_000);
    await approveAs(h, 'fence');
    await m.stepReaches(h, `fence:${restoreOn}`, ['done']);
    await cancelAs(h);
    return h;
  }));
});
