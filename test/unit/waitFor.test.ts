import { ClusterOps } from '../../activities/cluster';
import { SshError, SshPool } from '../../activities/ssh/session';
import { CommandFailedError } from '../../activities/errors';
import { loadInventoryFile } from '../../inventory/load';
import { testInventoryFile } from '../api/fixtures';

// The polling loop of every wait (learner caught up, member started, ...): pure control flow, no SSH.
describe('ClusterOps.waitFor and SSH failures', () => {
  const ops = new ClusterOps(loadInventoryFile(testInventoryFile()), new SshPool());

  test('a poll cut by SSH loss counts as "not yet": the wait goes on and ends with the answer', async () => {
    let polls = 0;
    const v = await ops.waitFor('w', 5_000, 5, async () => {
      polls++;
      if (polls <= 2) throw new SshError('node1: SSH connection lost while the command ran: etcdctl');
      return polls === 3 ? undefined : 'ready';
    }, () => '');
    expect({ v, polls }).toEqual({ v: 'ready', polls: 4 });
  });

  test('any other failure of a poll ends the wait at once', async () => {
    let polls = 0;
    const failed = new CommandFailedError({ node: 'node1', argv: ['etcdctl'], exitCode: 1, stdout: '', stderr: 'x', startedAt: '', durationMs: 0 }, 'x');
    await expect(ops.waitFor('w', 5_000, 5, async () => { polls++; throw failed; }, () => '')).rejects.toBe(failed);
    expect(polls).toBe(1);
  });

  test('SSH that stays down ends the wait with its SshError at the wait\'s deadline when that comes first', async () => {
    const lost = new SshError('node1: ssh to node1: connect ECONNREFUSED');
    await expect(ops.waitFor('w', 100, 10, async () => { throw lost; }, () => '')).rejects.toBe(lost);
  });
});
