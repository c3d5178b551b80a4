import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgeCertificate, judgeClocks, judgeDisk, judgeMaxSessions, judgeTools } from '../../activities/doctor/checks';

// The lab's CA certificate (public part only), valid until 2036-11-30.
const CA = readFileSync(join(__dirname, '..', 'fixtures', 'node-output', 'lab-ca.crt'), 'utf8');
const MiB = 1 << 20;

describe('doctor\'s judgements', () => {
  test('etcd tools: etcdctl and etcdutl of the server\'s minor version; 3.4 needs no etcdutl', () => {
    expect(judgeTools('n1', { server: '3.6.16', etcdctl: '3.6.16', etcdutl: '3.6.16', restoreCanBump: true }).map((r) => r.verdict)).toEqual(['ok', 'ok']);
    const old = judgeTools('n1', { server: '3.6.16', etcdctl: '3.5.21', restoreCanBump: true });
    expect(old.map((r) => [r.check, r.verdict, r.fix])).toEqual([['etcdctl', 'fail', 'install etcdctl 3.6.x (the server\'s minor version)'], ['etcdutl', 'fail', 'install etcdutl 3.6.16']]);
    expect(judgeTools('n1', { server: '3.4.34', etcdctl: '3.4.34', restoreCanBump: false }).map((r) => [r.check, r.verdict])).toEqual([['etcdctl', 'ok']]);
    expect(judgeTools('n1', { etcdctl: '3.6.16', restoreCanBump: false })[0].verdict).toBe('warn');
  });

  test('disk: below the database plus the WAL reserve fails, below two copies warns', () => {
    expect(judgeDisk('n1', 'data dir', '/var/lib/etcd', 100 * MiB, 50 * MiB).verdict).toBe('fail');
    expect(judgeDisk('n1', 'data dir', '/var/lib/etcd', 150 * MiB, 50 * MiB).verdict).toBe('warn');
    expect(judgeDisk('n1', 'data dir', '/var/lib/etcd', 200 * MiB, 50 * MiB)).toEqual({ node: 'n1', check: 'disk: data dir', verdict: 'ok', found: '200.0 MiB free at /var/lib/etcd (database 50.0 MiB)' });
    expect(judgeDisk('n1', 'backup dir', '/var/backups', 60 * MiB, 50 * MiB).verdict).toBe('warn');
  });

  test('sshd MaxSessions under the worker\'s channels warns with the setting to change', () => {
    expect(judgeMaxSessions('n1', 10).verdict).toBe('ok');
    expect(judgeMaxSessions('n1', 2)).toMatchObject({ verdict: 'warn', fix: expect.stringContaining('MaxSessions 10 in /etc/ssh/sshd_config') });
    expect(judgeMaxSessions('n1', undefined).verdict).toBe('warn');
  });

  test('clocks: the node off the others\' median by more than 1 s (beyond the measurement error) fails, alone', () => {
    const rows = judgeClocks([{ node: 'n1', offsetMs: 120, errorMs: 5 }, { node: 'n2', offsetMs: 130, errorMs: 5 }, { node: 'n3', offsetMs: 2_300, errorMs: 5 }]);
    expect(rows.map((r) => [r.node, r.verdict])).toEqual([['n1', 'ok'], ['n2', 'ok'], ['n3', 'fail']]);
    expect(rows[2].found).toBe('+2170 ms against the nodes\' median (±5 ms)');
    expect(judgeClocks([{ node: 'n1', offsetMs: 0, errorMs: 900 }, { node: 'n2', offsetMs: 1_500, errorMs: 900 }, { node: 'n3', offsetMs: 0, errorMs: 900 }])[1].verdict).toBe('ok');
  });

  test('certificates: ok, warn within 30 days, fail within 7 days or expired, fail when unreadable', () => {
    const at = (iso: string) => judgeCertificate('n1', 'CA', '/etc/etcd/pki/ca.crt', CA, new Date(iso));
    expect(at('2026-12-03T00:00:00Z')).toMatchObject({ verdict: 'ok', found: expect.stringMatching(/^\/etc\/etcd\/pki\/ca\.crt expires 2036-11-30 \(\d+ days\)$/) });
    expect(at('2036-11-10T00:00:00Z').verdict).toBe('warn');
    expect(at('2036-11-27T00:00:00Z').verdict).toBe('fail');
    expect(at('2037-01-01T00:00:00Z').verdict).toBe('fail');
    expect(judgeCertificate('n1', 'server', '/x.crt', undefined, new Date()).found).toBe('/x.crt cannot be read');
    expect(judgeCertificate('n1', 'server', '/x.crt', 'not a certificate', new Date()).found).toBe('/x.crt: no PEM certificate');
  });
});
