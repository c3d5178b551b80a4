import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEndpointHealth, parseEndpointStatus, parseHashKV, parseMemberAdd, parseMemberList, parseSnapshotStatus } from '../../activities/etcd/parse';
import { parseAlarmList, parseLeaseGrant, parseQuotaMetric } from '../../activities/etcd/alarms';
import { memberIdFrom } from '../../domain/memberId';
import {
  compareVersions, describeVersions, helpListsBump, joinVersionProblem, lowestMinor, parseHttpVersion, parseToolVersion, parseVersion, snapshotTool,
} from '../../domain/etcdVersion';
import { chooseRevisionBump, MIN_AUTO_BUMP } from '../../domain/revisionBump';
import { LONG_COMMAND_CAP_MS, memberStartTimeoutMs, restoreTimeoutMs } from '../../domain/scale';

// Output captured from real etcd 3.4.23 (Debian), 3.5.35 and 3.6.16 by scripts/capture-etcd-output.sh.
const FIXTURES = join(__dirname, '..', 'fixtures', 'etcd-output');
const read = (version: string, file: string) => readFileSync(join(FIXTURES, version, file), 'utf8');
const RELEASES: Record<string, string> = { '3.4': '3.4.23', '3.5': '3.5.35', '3.6': '3.6.16' };

describe.each(Object.entries(RELEASES))('parsers on etcd %s output', (minor, release) => {
  test('binary versions', () => {
    expect(parseToolVersion('etcd', read(minor, 'etcd-version.txt'))).toBe(release);
    expect(parseToolVersion('etcdctl', read(minor, 'etcdctl-version.txt'))).toBe(release);
    if (minor !== '3.4') expect(parseToolVersion('etcdutl', read(minor, 'etcdutl-version.txt'))).toBe(release);
    // The etcd line must not be taken for etcdctl's and the other way round.
    expect(parseToolVersion('etcdctl', read(minor, 'etcd-version.txt'))).toBeUndefined();
  });

  test('endpoint status: server version, uint64 IDs exact, counters', () => {
    const [s] = parseEndpointStatus(read(minor, 'endpoint-status.json'));
    expect(s.version).toBe(release);
    expect(s.memberId).toMatch(/^[0-9a-f]{1,16}$/);
    expect(s.revision).toBe(21); // 20 puts on a new cluster
    expect(s.dbSize).toBeGreaterThan(0);
    // Only 3.6 reports the backend quota in its status (2 GiB: etcd's default).
    expect(s.dbSizeQuota).toBe(minor === '3.6' ? 2 * 2 ** 30 : undefined);
    const raw = read(minor, 'endpoint-status.json');
    expect(BigInt(`0x${s.memberId}`).toString()).toBe(/"member_id":(\d+)/.exec(raw)?.[1]);
  });

  test('space quota: alarm list with none and with NOSPACE, the quota gauge, health under the alarm, lease grant', () => {
    expect(parseAlarmList(read(minor, 'alarm-list-none.json'))).toEqual({ noSpace: [], corrupt: [] });
    const raw = read(minor, 'alarm-list-nospace.json');
    expect(parseAlarmList(raw)).toEqual({ noSpace: [memberIdFrom(/"memberID":(\d+)/.exec(raw)![1])], corrupt: [] });
    expect(parseQuotaMetric(read(minor, 'metrics-quota.txt'))).toBe(16 * 2 ** 20);
    const [h] = parseEndpointHealth(read(minor, 'endpoint-health-nospace.json'));
    // etcdctl 3.5+ calls a member with a raised alarm unhealthy; 3.4 does not look at alarms.
    expect(h.health).toBe(minor === '3.4');
    if (minor !== '3.4') expect(h.error).toMatch(/^Active Alarm\(s\): NOSPACE/);
    expect(read(minor, 'put-nospace.txt')).toMatch(/database space exceeded/);
    expect(parseLeaseGrant(read(minor, 'lease-grant.txt'))).toMatch(/^[0-9a-f]{16}$/);
  });

  test('member list and member add --learner', () => {
    const list = parseMemberList(read(minor, 'member-list.json'));
    expect(list.members.map((m) => m.name)).toEqual(['m1']);
    const add = parseMemberAdd(read(minor, 'member-add.json'));
    expect(add.members).toHaveLength(2);
    expect(add.members.find((m) => m.id === add.memberId)?.isLearner).toBe(true);
  });

  test('hashkv and snapshot status', () => {
    expect(parseHashKV(read(minor, 'endpoint-hashkv.json'))[0].hash).toMatch(/^\d+$/);
    const snap = parseSnapshotStatus(read(minor, 'snapshot-status.json'));
    expect(snap.revision).toBe(21);
    expect(snap.totalKey).toBeGreaterThanOrEqual(20);
  });

  test('/version: server and cluster version', () => {
    const v = parseHttpVersion(read(minor, 'http-version.json'));
    expect(v?.server).toBe(release);
    expect(v?.cluster).toBe(`${minor}.0`);
  });

  test('restore help: --bump-revision/--mark-compacted from 3.5 on', () => {
    expect(helpListsBump(read(minor, 'snapshot-restore-help.txt'))).toBe(minor !== '3.4');
  });
});

describe('snapshot tool per node', () => {
  test('etcdutl wherever it is installed; etcdctl only before 3.6; none otherwise', () => {
    expect(snapshotTool('n', { etcdctl: '3.6.16', etcdutl: '3.6.16', restoreCanBump: true })).toBe('etcdutl');
    expect(snapshotTool('n', { etcdctl: '3.5.35', etcdutl: '3.5.35', restoreCanBump: true })).toBe('etcdutl');
    expect(snapshotTool('n', { etcdctl: '3.4.23', restoreCanBump: false })).toBe('etcdctl');
    expect(() => snapshotTool('node2', { etcdctl: '3.6.16', restoreCanBump: false })).toThrow(/node2: etcdctl 3.6.16 has no snapshot status\/restore.*install etcdutl/);
    expect(() => snapshotTool('node2', { restoreCanBump: false })).toThrow(/neither etcdutl nor etcdctl/);
  });
});

describe('versions', () => {
  test('parse and compare', () => {
    expect(parseVersion('v3.5.35')).toEqual({ major: 3, minor: 5, patch: 35 });
    expect(parseVersion('not_decided')).toBeUndefined();
    expect(compareVersions(parseVersion('3.5.35')!, parseVersion('3.6.0')!)).toBeLessThan(0);
    expect(lowestMinor(['3.6.16', '3.5.35', 'garbage'])).toBe('3.5.0');
    expect(lowestMinor([])).toBeUndefined();
    // 3.0.0 is etcd's placeholder until every member has reported: undecided, not a version to compare with.
    expect(parseHttpVersion('{"etcdserver":"3.6.16","etcdcluster":"3.0.0","storage":"3.0.0"}')).toEqual({ server: '3.6.16', storage: '3.0.0' });
    expect(parseHttpVersion('{"etcdserver":"3.6.16","etcdcluster":"not_decided"}')).toEqual({ server: '3.6.16' });
  });

  test('a member may join only at the cluster version or one minor newer', () => {
    expect(joinVersionProblem('node3', '3.5.35', '3.6.0')).toMatch(/node3: its etcd 3.5.35 is older than the cluster version 3.6/);
    expect(joinVersionProblem('node3', '3.4.23', '3.5.0')).toMatch(/older than the cluster version 3.5/);
    expect(joinVersionProblem('node3', '3.6.16', '3.4.0')).toMatch(/more than one minor version newer/);
    expect(joinVersionProblem('node3', '3.6.16', '3.5.0')).toBeUndefined(); // mid-upgrade: a newer member joins
    expect(joinVersionProblem('node3', '3.5.35', '3.5.0')).toBeUndefined();
    expect(joinVersionProblem('node3', undefined, '3.5.0')).toBeUndefined();
  });

  test('the plan line names the cluster version and each joining node', () => {
    expect(describeVersions({ version: '3.5.0', source: 'etcd' }, [{ spec: { node: 'node3' }, etcdVersion: '3.6.16' }]))
      .toBe('versions: cluster 3.5.0 (reported by etcd); node3 has etcd 3.6.16');
    expect(describeVersions(undefined, [])).toBe('versions: cluster version unknown');
  });

  test('an estimated cluster version says why /version did not answer', () => {
    expect(describeVersions({ version: '3.5.0', source: 'estimated', unanswered: ['https://10.0.0.1:2379: curl: (28) Operation timed out'] }, []))
      .toBe('versions: cluster 3.5.0 (estimated from member versions: /version https://10.0.0.1:2379: curl: (28) Operation timed out)');
    expect(describeVersions({ version: '3.5.0', source: 'estimated' }, [])).toBe('versions: cluster 3.5.0 (estimated from member versions)');
  });
});

describe('revision bump of a restore', () => {
  const base = { node: 'node1', tool: 'etcdutl 3.6.16', canBump: true, largestSeen: 0 };
  test('on for Kubernetes: at least 1e9, else twice the largest raft index or revision seen', () => {
    expect(chooseRevisionBump({ ...base, backsKubernetes: true, largestSeen: 1200 }).bump).toBe(MIN_AUTO_BUMP);
    expect(chooseRevisionBump({ ...base, backsKubernetes: true, largestSeen: 900_000_000 }).bump).toBe(1_800_000_000);
  });
  test('off by default otherwise; an explicit amount wins either way', () => {
    expect(chooseRevisionBump({ ...base, backsKubernetes: false }).bump).toBe(0);
    expect(chooseRevisionBump({ ...base, backsKubernetes: false, requested: 5000 }).bump).toBe(5000);
    expect(chooseRevisionBump({ ...base, backsKubernetes: true, requested: 0 }).bump).toBe(0);
  });
  test('a tool without the flags refuses a bump, and allows none', () => {
    expect(() => chooseRevisionBump({ ...base, tool: 'etcdctl 3.4.23', canBump: false, backsKubernetes: true }))
      .toThrow(/node1: etcdctl 3.4.23 cannot bump the revision.*bump of 0/);
    expect(chooseRevisionBump({ ...base, canBump: false, backsKubernetes: true, requested: 0 }).bump).toBe(0);
  });
});

describe('timeouts that follow the database size', () => {
  test('grow with bytes, capped at 25 min', () => {
    expect(restoreTimeoutMs(0)).toBe(60_000);
    expect(restoreTimeoutMs(8 * 2 ** 30)).toBe(60_000 + 8 * 1024 / 20 * 1000);
    expect(memberStartTimeoutMs(2 * 2 ** 30)).toBeGreaterThan(memberStartTimeoutMs(100 * 2 ** 20));
    expect(restoreTimeoutMs(2 ** 40)).toBe(LONG_COMMAND_CAP_MS);
  });
});
