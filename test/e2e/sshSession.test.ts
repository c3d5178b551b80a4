import { MAX_CHANNELS, type NodeSession, SshPool } from '../../activities/ssh/session';
import type { Inventory } from '../../inventory/schema';
import { freshLabWith, lab, onNode } from '../support/lab';

jest.setTimeout(5 * 60_000);

/**
 * Starts `count` commands at once that each sleep `seconds` on the node, recording when they ran
 * there: their exit codes, and the most that ran on the node at the same time.
 */
async function sleepsAtOnce(session: NodeSession, count: number, seconds: number): Promise<{ exitCodes: number[]; mostAtOnce: number }> {
  const runs = await Promise.all(Array.from({ length: count }, () => session.exec(['sh', '-c', `date +%s%N; sleep ${seconds}; date +%s%N`])));
  const spans = runs.map((r) => r.stdout.trim().split('\n').map(Number));
  const runningAt = (t: number) => spans.filter(([a, b]) => a <= t && t < b).length;
  return { exitCodes: runs.map((r) => r.exitCode), mostAtOnce: Math.max(...spans.map(([a]) => runningAt(a))) };
}

// The worker's SSH session to a real lab node (OpenSSH with its default MaxSessions of 10).
describe('one SSH connection per node (lab)', () => {
  let inv: Inventory;
  let pool: SshPool;

  beforeAll(() => {
    inv = freshLabWith(1, 1);
    pool = new SshPool();
  });
  afterAll(() => {
    pool.closeAll();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('20 commands at once all run: those past MAX_CHANNELS wait for a channel instead of failing', async () => {
    expect(onNode('node1', 'sshd -T | grep -i "^maxsessions"').trim()).toBe('maxsessions 10');
    const n = inv.nodes[0];
    const session = pool.session(n.name, n.ssh);
    const { exitCodes, mostAtOnce } = await sleepsAtOnce(session, 20, 0.3);
    expect(exitCodes).toEqual(Array(20).fill(0));
    expect(mostAtOnce).toBeLessThanOrEqual(MAX_CHANNELS);
  });

  test('the exit status of a quick command is never lost, 200 at once (it may come in the same packet as the channel open)', async () => {
    const n = inv.nodes[0];
    const session = pool.session(n.name, n.ssh);
    const runs = await Promise.all(Array.from({ length: 200 }, (_, i) => session.exec(['sh', '-c', `echo ${i}; exit 3`])));
    expect(runs.map((r) => [r.exitCode, r.stdout.trim()])).toEqual(runs.map((_, i) => [3, String(i)]));
  });

  test('a stream holds its channel until it ends, then the next command runs', async () => {
    const n = inv.nodes[0];
    const session = pool.session(n.name, n.ssh);
    const streams = await Promise.all(Array.from({ length: MAX_CHANNELS }, () => session.openStream(['sh', '-c', 'sleep 0.5'])));
    let ended = 0;
    streams.forEach((s) => { s.channel.resume(); void s.exit.then(() => { ended++; }); });
    const after = await session.exec(['true']);
    expect(after.exitCode).toBe(0);
    // It got a channel only once a stream had ended.
    expect(ended).toBeGreaterThan(0);
    await Promise.all(streams.map((s) => s.exit));
  });

  test('a server with MaxSessions 3 below ours: 12 commands at once all run, 3 at a time, none failed', async () => {
    onNode('node1', 'echo "MaxSessions 3" > /etc/ssh/sshd_config.d/50-maxsessions.conf && systemctl reload ssh');
    const fewer = new SshPool();
    try {
      expect(onNode('node1', 'sshd -T | grep -i "^maxsessions"').trim()).toBe('maxsessions 3');
      const n = inv.nodes[0];
      const session = fewer.session(n.name, n.ssh);
      // Each sleeps longer than the 1 s a refused open is retried: a command that waited on
      // retries alone would fail.
      const { exitCodes, mostAtOnce } = await sleepsAtOnce(session, 12, 1.5);
      expect(exitCodes).toEqual(Array(12).fill(0));
      expect(mostAtOnce).toBeLessThanOrEqual(3);
      expect(session.channelLimit).toBe(3);
      // A stream, then commands beside it, still run under the learned limit.
      const stream = await session.openStream(['sh', '-c', 'sleep 1.5']);
      stream.channel.resume();
      const beside = await Promise.all(Array.from({ length: 4 }, () => session.exec(['true'])));
      expect(beside.map((r) => r.exitCode)).toEqual([0, 0, 0, 0]);
      expect((await stream.exit).code).toBe(0);
    } finally {
      fewer.closeAll();
      onNode('node1', 'rm -f /etc/ssh/sshd_config.d/50-maxsessions.conf && systemctl reload ssh');
    }
  });
});
