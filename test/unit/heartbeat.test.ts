import { ClusterOps } from '../../activities/cluster';
import type { SshPool } from '../../activities/ssh/session';
import { parseInventory } from '../../inventory/schema';

const inv = parseInventory({
  cluster: 'lab', runtime: 'systemd', backupDir: '/var/backups/etcd',
  tls: { caFile: '/p/ca.crt', serverCertFile: '/p/s.crt', serverKeyFile: '/p/s.key', peerCertFile: '/p/p.crt', peerKeyFile: '/p/p.key', clientCertFile: '/p/c.crt', clientKeyFile: '/p/c.key' },
  nodes: [{
    name: 'node1', ssh: { host: '10.0.0.1', user: 'root', hostKeyFingerprint: 'SHA256:2+zuBjD08sp/t/l/szUg+eIK5XrPAcIGFupNJE/sQ5k', privateKeyPath: '/k' },
    etcd: { memberName: 'node1', peerURL: 'https://10.0.0.1:2380', clientURL: 'https://10.0.0.1:2379', dataDir: '/var/lib/etcd/default' },
  }],
});

// A session that "runs" a command by ticking twice, as a long command does while it runs.
const pool = {
  session: () => ({
    exec: async (_argv: string[], opts: { onTick?: () => void }) => {
      opts.onTick?.();
      opts.onTick?.();
      return { exitCode: 0, stdout: '', stderr: '', record: { node: 'node1', argv: [], exitCode: 0, startedAt: '', durationMs: 0 } };
    },
  }),
} as unknown as SshPool;

test('heartbeats of running commands repeat the last progress details instead of erasing them', async () => {
  const beats: unknown[] = [];
  const ops = new ClusterOps(inv, pool, (d) => beats.push(d));
  await ops.run('node1', ['true']);
  ops.heartbeat({ bytes: 10, totalBytes: 100 });
  await ops.run('node1', ['true']);
  expect(beats).toEqual([undefined, undefined, { bytes: 10, totalBytes: 100 }, { bytes: 10, totalBytes: 100 }, { bytes: 10, totalBytes: 100 }]);
});
