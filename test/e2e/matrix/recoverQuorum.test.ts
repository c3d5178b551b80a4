import { progressQuery, recoverQuorum } from '../../../workflows';
import { lab } from '../../support/lab';
import { Matrix } from '../../support/faults';
import { eventually, startRun } from '../../support/temporal';
import { approveAs, cancelAs } from '../../support/decisions';

jest.setTimeout(20 * 60_000);

const NODES = ['node1', 'node2', 'node3'];

// recover-quorum on a 3-member cluster with a 200 MiB database, one fault per case. A partial
// fault (SSH-only, a freeze) leaves a quorum that may serve: the run must refuse and change nothing.
describe('fault matrix: recover-quorum', () => {
  const m = new Matrix('recover-quorum');
  const recover = (approved = true) => startRun(m.env, recoverQuorum, { ...m.base(), members: NODES, waitForNodesSeconds: 300, ...(approved ? { approvedBy: 'e2e' } : {}) });
  const both = (cmd: string, ...args: string[]) => { lab(cmd, 'node2', ...args); lab(cmd, 'node3', ...args); };
  afterAll(() => m.stop());
  beforeEach(() => m.freshLab(3, 3));

  test('SSH-only loss of node2 and node3 (their etcd serves): refused, nothing changed', () => m.runCase('ssh-only', { end: 'refused', minVoters: 3, members: NODES }, async () => {
    both('block', 'ssh');
    return recover();
  }, () => both('unblock')));

  test('etcd-only loss of node2 and node3 (quorum really lost), healed after the force: completes with 3 voters', () => m.runCase('etcd-only', { end: 'completed', minVoters: 3, members: NODES }, async () => {
    both('block', 'etcd');
    const h = await recover();
    await m.stepReaches(h, 'force-new-cluster:node1', ['done']);
    both('unblock');
    return h;
  }));

  test('node2 and node3 frozen (they may come back): refused, nothing changed', () => m.runCase('freeze', { end: 'refused', minVoters: 3, members: NODES }, async () => {
    both('freeze');
    return recover();
  }, () => both('thaw')));

  test('node2 and node3 crash, come back during the run: completes with 3 voters', () => m.runCase('crash', { end: 'completed', minVoters: 3, members: NODES }, async () => {
    both('crash');
    const h = await recover();
    await m.stepReaches(h, 'wait-reachable:node2', ['running', 'done']);
    lab('start', 'node2');
    lab('start', 'node3');
    return h;
  }));

  test('cancel at the --force-new-cluster approval: etcd unfenced where it ran, the cluster as found', () => m.runCase('cancel', { end: 'undone', minVoters: 3, members: NODES }, async () => {
    both('crash');
    const h = await recover(false);
    await eventually('fence approval asked', async () => ((await h.query(progressQuery)).pendingApproval?.step === 'fence' ? true : undefined), 300_000);
    await approveAs(h, 'fence');
    await eventually('force approval asked', async () => ((await h.query(progressQuery)).pendingApproval?.step === 'force-new-cluster:node1' ? true : undefined), 300_000);
    await cancelAs(h);
    return h;
  }, async () => {
    // the nodes come back on their own data: the original cluster regains quorum
    lab('start', 'node2');
    lab('start', 'node3');
  }));
});
