import { parseInventory, InventoryError } from '../../inventory/schema';
import { memberQuotaBytes, renderMemberEnvironment, DEFAULT_QUOTA_BYTES } from '../../domain/memberConfig';
import { quotaProblem, type NodeReadiness } from '../../domain/expandPlan';

const tls = { caFile: '/p/ca.crt', serverCertFile: '/p/s.crt', serverKeyFile: '/p/s.key', peerCertFile: '/p/p.crt', peerKeyFile: '/p/p.key' };
const doc = (memberSettings: unknown) => ({
  cluster: 'lab', runtime: 'systemd', backupDir: '/var/backups/etcd', memberSettings,
  tls: { ...tls, clientCertFile: '/p/c.crt', clientKeyFile: '/p/c.key' },
  nodes: [{
    name: 'node1', ssh: { host: '10.0.0.1', user: 'root', hostKeyFingerprint: 'SHA256:2+zuBjD08sp/t/l/szUg+eIK5XrPAcIGFupNJE/sQ5k', privateKeyPath: '/k' },
    etcd: { memberName: 'node1', peerURL: 'https://10.0.0.1:2380', clientURL: 'https://10.0.0.1:2379', dataDir: '/var/lib/etcd/default' },
  }],
});
const problems = (d: unknown) => {
  try {
    parseInventory(d);
    return [];
  } catch (e) {
    return (e as InventoryError).problems;
  }
};

describe('member settings (inventory memberSettings)', () => {
  test('ETCD_* plain values are accepted; settings the runbooks write and odd values are refused, naming the field', () => {
    expect(parseInventory(doc({ ETCD_QUOTA_BACKEND_BYTES: '8589934592', ETCD_SNAPSHOT_COUNT: '10000' })).memberSettings.ETCD_QUOTA_BACKEND_BYTES).toBe('8589934592');
    expect(problems(doc({ ETCD_INITIAL_CLUSTER: 'x=https://a:2380' }))).toEqual([expect.stringMatching(/^memberSettings\.ETCD_INITIAL_CLUSTER: .*written by the runbooks/)]);
    expect(problems(doc({ ETCD_FORCE_NEW_CLUSTER: 'true' }))[0]).toMatch(/written by the runbooks/);
    expect(problems(doc({ QUOTA: '1' }))[0]).toMatch(/must be an etcd environment variable/);
    expect(problems(doc({ ETCD_SNAPSHOT_COUNT: '1\nETCD_FORCE_NEW_CLUSTER=true' }))[0]).toMatch(/^memberSettings\.ETCD_SNAPSHOT_COUNT: must be a plain value/);
  });

  test('written after the runbook\'s own lines in every member file', () => {
    const env = renderMemberEnvironment({
      name: 'node2', peerURL: 'https://10.0.0.2:2380', clientURL: 'https://10.0.0.2:2379', dataDir: '/d', initialCluster: 'node2=https://10.0.0.2:2380',
      initialClusterState: 'existing', tls, settings: { ETCD_SNAPSHOT_COUNT: '10000', ETCD_QUOTA_BACKEND_BYTES: '8589934592' },
    });
    expect(env.trim().split('\n').slice(-2)).toEqual(['ETCD_QUOTA_BACKEND_BYTES=8589934592', 'ETCD_SNAPSHOT_COUNT=10000']);
    expect(() => renderMemberEnvironment({ name: 'n', peerURL: 'https://a:2380', clientURL: 'https://a:2379', dataDir: '/d', initialCluster: 'n=https://a:2380', initialClusterState: 'new', tls, settings: { ETCD_NAME: 'x' } })).toThrow(/ETCD_NAME is not allowed/);
  });

  test('a database larger than the quota a new member would get is a pre-flight problem', () => {
    expect(memberQuotaBytes({})).toBe(DEFAULT_QUOTA_BYTES);
    expect(memberQuotaBytes({ ETCD_QUOTA_BACKEND_BYTES: '8589934592' })).toBe(8 * 2 ** 30);
    const r = { spec: { node: 'node3' }, quotaBytes: DEFAULT_QUOTA_BYTES } as NodeReadiness;
    expect(quotaProblem(r, 3 * 2 ** 30)).toMatch(/node3: the database \(3072 MiB\) exceeds the backend quota a new member would run with \(2048 MiB\); set memberSettings\.ETCD_QUOTA_BACKEND_BYTES/);
    expect(quotaProblem(r, 2 ** 30)).toBeUndefined();
  });
});
