import { replaceMember } from '../../../workflows';
import { lab } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { startRun } from '../../support/temporal';
import { cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

// replace crashed node2 by node4 in a 3-member cluster with a 200 MiB database, one fault per case.
// It starts with 2 healthy voters; no case may end with fewer.
describe('fault matrix: replace', () => {
  const m = new Matrix('replace');
  const replace = () => startRun(m.env, replaceMember, { ...m.base(), failed: 'node2', replacement: 'node4', approvedBy: 'e2e' });
  afterAll(() => m.stop());
  beforeEach(async () => {
    await m.freshLab(4, 3);
    lab('crash', 'node2');
    lab('wipe', 'node2');
  });

  test('SSH-only loss of healthy member node3 during the run: completes (etcd of node3 still serves)', () => m.runCase('ssh-only', { end: 'completed', minVoters: 3, members: ['node1', 'node3', 'node4'] }, async () => {
    const h = await replace();
    await m.stepReaches(h, 'snapshot', ['done']);
    lab('block', 'node3', 'ssh');
    return h;
  }, () => lab('unblock', 'node3')));

  test('etcd-only loss of node4 right after it was added: safe point, one member short but healthy', () => m.runCase('etcd-only', { end: 'safe point', minVoters: 2, members: ['node1', 'node3'] }, async () => {
    const h = await replace();
    await m.stepReaches(h, 'add-learner:node4', ['done']);
    lab('block', 'node4', 'etcd');
    return h;
  }, () => lab('unblock', 'node4')));

  test('node4 frozen for 12 s while it catches up: completes', () => m.runCase('freeze', { end: 'completed', minVoters: 3, members: ['node1', 'node3', 'node4'] }, async () => {
    const h = await replace();
    await m.stepReaches(h, 'start:node4', ['done']);
    await m.freezeFor('node4');
    return h;
  }));

  test('node4 crashes while it starts: safe point, node4 left over', () => m.runCase('crash', { end: 'safe point', minVoters: 2, members: ['node1', 'node3'], leftoverOn: ['node4'] }, async () => {
    const h = await replace();
    await m.stepReaches(h, 'start:node4', ['running', 'done']);
    lab('crash', 'node4');
    return h;
  }));

  test('node4 data dir on a 100 MiB disk: refused at pre-flight, node2 still listed', () => m.runCase('full disk', { end: 'refused', minVoters: 2, members: ['node1', 'node2', 'node3'] }, async () => {
    lab('smalldisk', 'node4', '/var/lib/etcd', '100M');
    return replace();
  }));

  test('cancel after node4 was added as a learner: the learner is removed, safe point one member short', () => m.runCase('cancel', { end: 'safe point', minVoters: 2, members: ['node1', 'node3'] }, async () => {
    const h = await replace();
    await m.stepReaches(h, 'add-learner:node4', ['done']);
    await cancelAs(h);
    return h;
  }));
});
