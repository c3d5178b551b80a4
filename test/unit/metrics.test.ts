import type { Actor } from '../../domain/identity';
import { ClusterMetrics, type MetricsSource } from '../../service/metrics';
import type { ProposalsView } from '../../service/runs';

const viewer: Actor = { principal: 'prom', method: 'token', channel: 'api', roles: ['viewer'] };
const MiB = 1024 * 1024;
const member = (node: string, over: object = {}) => ({ node, learner: false, etcd: 'serving' as const, ssh: true, memberId: `${node}-id`, leader: 'node1-id', version: '3.6.5', raftIndex: 500, db: { size: 20 * MiB, inUse: 5 * MiB, quota: 24 * MiB }, ...over });
const view: ProposalsView = {
  watching: true, cluster: 'lab', intervalSeconds: 15, probes: 9, failedProbes: 1, lastProbeAt: 1_700_000_000_000,
  proposals: [
    { id: 'member-silent:node3@1', key: 'member-silent:node3', runbook: 'replace', fields: { failed: 'node3' }, evidence: 'e', since: 1, openedAt: 2, status: 'open' },
    { id: 'nospace@1', key: 'nospace', runbook: 'defrag', fields: {}, evidence: 'e', since: 1, openedAt: 2, status: 'resolved', closedAt: 3 },
  ],
  reports: [{ key: 'ssh-only:node2', evidence: 'e', since: 1, openedAt: 2, status: 'open' }],
  last: { at: 1_700_000_000_000, members: [member('node1', { facts: { at: 1, certs: [{ role: 'server', notAfter: Date.now() + 20.5 * 86_400_000 }], dataDirFree: 5 * MiB } }), member('node2', { ssh: false }), { node: 'node3', learner: false, etcd: 'silent', ssh: false }], spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [] },
};
const source = (over: Partial<MetricsSource> = {}): MetricsSource => ({
  clusters: () => ['lab', 'down'],
  proposals: async (_a, c) => { if (c === 'down') throw new Error('Temporal unavailable'); return view; },
  recoveryPoint: async () => ({ passed: { backup: 'b', drilledAt: '2026-12-05T10:00:00Z', takenAt: '2026-12-05T09:00:00Z', ageSeconds: 3600 } }),
  list: async () => [
    { workflowId: 'w', runId: '3', workflow: 'replaceMember', state: 'running', startedAt: '2026-12-05T12:00:00Z' },
    { workflowId: 'w', runId: '2', workflow: 'defragCluster', state: 'completed', startedAt: '2026-12-05T11:00:00Z', closedAt: '2026-12-05T11:01:30Z' },
    { workflowId: 'w', runId: '1', workflow: 'defragCluster', state: 'completed', startedAt: '2026-12-05T10:00:00Z', closedAt: '2026-12-05T10:00:30Z' },
  ],
  ...over,
});
/** The value of the series `line` (name and labels as exposed), or undefined. */
const value = (text: string, series: string) => {
  const l = text.split('\n').find((x) => x.startsWith(`${series} `));
  return l === undefined ? undefined : Number(l.slice(series.length + 1));
};

describe('metrics: what a scrape exposes, read from the watch, drills and runs', () => {
  test('per member and per cluster from the last probe; open proposals by runbook; recovery point; runs by runbook and outcome', async () => {
    const text = await new ClusterMetrics(source()).render(viewer);
    const expected: Record<string, number> = {
      'etcd_runbooks_cluster_read_ok{cluster="lab"}': 1,
      'etcd_runbooks_watch_up{cluster="lab"}': 1,
      'etcd_runbooks_watch_last_probe_timestamp_seconds{cluster="lab"}': 1_700_000_000,
      'etcd_runbooks_cluster_voters{cluster="lab"}': 3,
      'etcd_runbooks_cluster_voters_serving{cluster="lab"}': 2,
      'etcd_runbooks_cluster_has_leader{cluster="lab"}': 1,
      'etcd_runbooks_member_etcd_serving{cluster="lab",node="node2"}': 1,
      'etcd_runbooks_member_ssh_up{cluster="lab",node="node2"}': 0,
      'etcd_runbooks_member_etcd_serving{cluster="lab",node="node3"}': 0,
      'etcd_runbooks_member_is_leader{cluster="lab",node="node1"}': 1,
      'etcd_runbooks_member_is_leader{cluster="lab",node="node2"}': 0,
      'etcd_runbooks_member_db_size_bytes{cluster="lab",node="node1"}': 20 * MiB,
      'etcd_runbooks_member_db_quota_bytes{cluster="lab",node="node1"}': 24 * MiB,
      'etcd_runbooks_proposals_open{cluster="lab",runbook="replace"}': 1,
      'etcd_runbooks_reports_open{cluster="lab"}': 1,
      'etcd_runbooks_recovery_point_age_seconds{cluster="lab"}': 3600,
      'etcd_runbooks_last_drill_passed{cluster="lab"}': 1,
      'etcd_runbooks_runs{cluster="lab",runbook="defrag",outcome="completed"}': 2,
      'etcd_runbooks_runs{cluster="lab",runbook="replace",outcome="running"}': 1,
      'etcd_runbooks_runs_duration_seconds_sum{cluster="lab",runbook="defrag",outcome="completed"}': 120,
      'etcd_runbooks_last_run_duration_seconds{cluster="lab",runbook="defrag",outcome="completed"}': 90,
      'etcd_runbooks_member_certificate_days_left{cluster="lab",node="node1",role="server"}': 20,
      'etcd_runbooks_member_data_dir_free_bytes{cluster="lab",node="node1"}': 5 * MiB,
      'etcd_runbooks_cluster_read_ok{cluster="down"}': 0,
    };
    expect(Object.fromEntries(Object.keys(expected).map((k) => [k, value(text, k)]))).toEqual(expected);
    expect(value(text, 'etcd_runbooks_proposals_open{cluster="lab",runbook="defrag"}')).toBeUndefined();
    expect(value(text, 'etcd_runbooks_member_db_size_bytes{cluster="lab",node="node3"}')).toBeUndefined();
    expect(text).not.toMatch(/\{cluster="down",node=/);
  });

  test('a failed drill newer than the last pass: last_drill_passed 0; no watch: watch_up 0 and no member series', async () => {
    const text = await new ClusterMetrics(source({
      clusters: () => ['lab'],
      proposals: async () => ({ watching: false, cluster: 'lab', proposals: [], reports: [] }),
      recoveryPoint: async () => ({ failed: { drilledAt: '2026-12-05T10:00:00Z', message: 'integrity' } }),
      list: async () => [],
    })).render(viewer);
    expect(value(text, 'etcd_runbooks_last_drill_passed{cluster="lab"}')).toBe(0);
    expect(value(text, 'etcd_runbooks_watch_up{cluster="lab"}')).toBe(0);
    expect(text).not.toMatch(/^etcd_runbooks_member_\w+\{/m);
    expect(text).not.toMatch(/^etcd_runbooks_recovery_point_age_seconds\{/m);
  });

  test('a second scrape shows the state of its own time, not what the first saw', async () => {
    let watching = true;
    const m = new ClusterMetrics(source({ clusters: () => ['lab'], proposals: async () => (watching ? view : { watching: false, cluster: 'lab', proposals: [], reports: [] }) }));
    expect(value(await m.render(viewer), 'etcd_runbooks_member_ssh_up{cluster="lab",node="node1"}')).toBe(1);
    watching = false;
    const second = await m.render(viewer);
    expect(second).not.toMatch(/^etcd_runbooks_member_ssh_up\{/m);
    expect(value(second, 'etcd_runbooks_runs{cluster="lab",runbook="defrag",outcome="completed"}')).toBe(2);
  });
});
