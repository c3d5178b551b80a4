import { expandCluster } from '../../../workflows';
import { lab } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { startRun } from '../../support/temporal';
import { cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

// expand 1 -> 3 with a 200 MiB database, one fault per case, asserted from etcd itself.
describe('fault matrix: expand', () => {
  const m = new Matrix('expand');
  const expand = () => startRun(m.env, expandCluster, { ...m.base(), add: ['node2', 'node3'] });
  afterAll(() => m.stop());
  beforeEach(() => m.freshLab(3, 1));

  test('SSH-only loss of node3 after node2 joined: undone, node3 recorded as left over', () => m.runCase('ssh-only', { end: 'undone', minVoters: 1, members: ['node1'], leftoverOn: ['node3'] }, async () => {
    const h = await expand();
    await m.stepReaches(h, 'add-learner:node3', ['running', 'done']);
    lab('block', 'node3', 'ssh');
    return h;
  }, () => lab('unblock', 'node3')));

  test('etcd-only loss of node2 right after it was added: undone', () => m.runCase('etcd-only', { end: 'undone', minVoters: 1, members: ['node1'] }, async () => {
    const h = await expand();
    await m.stepReaches(h, 'add-learner:node2', ['done']);
    lab('block', 'node2', 'etcd');
    return h;
  }, () => lab('unblock', 'node2')));

  test('node2 frozen for 12 s (longer than the heartbeat timeout) while it catches up: completes', () => m.runCase('freeze', { end: 'completed', minVoters: 3, members: ['node1', 'node2', 'node3'] }, async () => {
    const h = await expand();
    await m.stepReaches(h, 'start:node2', ['done']);
    await m.freezeFor('node2');
    return h;
  }));

  test('node3 crashes while it starts: undone, node3 recorded as left over', () => m.runCase('crash', { end: 'undone', minVoters: 1, members: ['node1'], leftoverOn: ['node3'] }, async () => {
    const h = await expand();
    await m.stepReaches(h, 'start:node3', ['running', 'done']);
    lab('crash', 'node3');
    return h;
  }));

  test('node3 data dir on a 100 MiB disk: refused at pre-flight', () => m.runCase('full disk', { end: 'refused', minVoters: 1, members: ['node1'] }, async () => {
    lab('smalldisk', 'node3', '/var/lib/etcd', '100M');
    return expand();
  }));

  test('cancel after node2 caught up: undone', () => m.runCase('cancel', { end: 'undone', minVoters: 1, members: ['node1'] }, async () => {
    const h = await expand();
    await m.stepReaches(h, 'wait-caught-up:node2', ['done']);
    await cancelAs(h);
    return h;
  }));
});
