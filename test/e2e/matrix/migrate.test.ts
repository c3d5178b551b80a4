import { migrateMember } from '../../../workflows';
import { lab } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { startRun } from '../../support/temporal';
import { cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

// migrate node1 -> node4 in a 3-member cluster with a 200 MiB database, one fault per case.
describe('fault matrix: migrate', () => {
  const m = new Matrix('migrate');
  const migrate = () => startRun(m.env, migrateMember, { ...m.base(), from: 'node1', to: 'node4', approvedBy: 'e2e' });
  afterAll(() => m.stop());
  beforeEach(() => m.freshLab(4, 3));

  test('SSH-only loss of the source after node4 was promoted: completes, node1 left over for cleanup', () => m.runCase('ssh-only', { end: 'completed', minVoters: 3, members: ['node2', 'node3', 'node4'], leftoverOn: ['node1'] }, async () => {
    const h = await migrate();
    await m.stepReaches(h, 'promote:node4', ['done']);
    lab('block', 'node1', 'ssh');
    return h;
  }, () => lab('unblock', 'node1')));

  test('etcd-only loss of node4 right after it was added: undone, as it started', () => m.runCase('etcd-only', { end: 'undone', minVoters: 3, members: ['node1', 'node2', 'node3'] }, async () => {
    const h = await migrate();
    await m.stepReaches(h, 'add-learner:node4', ['done']);
    lab('block', 'node4', 'etcd');
    return h;
  }, () => lab('unblock', 'node4')));

  test('node4 frozen for 12 s while it catches up: completes', () => m.runCase('freeze', { end: 'completed', minVoters: 3, members: ['node2', 'node3', 'node4'] }, async () => {
    const h = await migrate();
    await m.stepReaches(h, 'start:node4', ['done']);
    await m.freezeFor('node4');
    return h;
  }));

  test('node4 crashes while it starts: undone, node4 left over', () => m.runCase('crash', { end: 'undone', minVoters: 3, members: ['node1', 'node2', 'node3'], leftoverOn: ['node4'] }, async () => {
    const h = await migrate();
    await m.stepReaches(h, 'start:node4', ['running', 'done']);
    lab('crash', 'node4');
    return h;
  }));

  test('node4 data dir on a 100 MiB disk: refused at pre-flight', () => m.runCase('full disk', { end: 'refused', minVoters: 3, members: ['node1', 'node2', 'node3'] }, async () => {
    lab('smalldisk', 'node4', '/var/lib/etcd', '100M');
    return migrate();
  }));

  test('cancel after node4 was promoted: node4 taken out again, as it started', () => m.runCase('cancel', { end: 'undone', minVoters: 3, members: ['node1', 'node2', 'node3'] }, async () => {
    const h = await migrate();
    await m.stepReaches(h, 'promote:node4', ['done']);
    await cancelAs(h);
    return h;
  }));
});
