import { Gauge, Registry } from 'prom-client';
import type { Actor } from '../domain/identity';
import { leaderOf } from '../domain/watchHealth';
import { RUNBOOKS } from './catalogue';
import type { RecoveryPoint } from './recoveryPoint';
import type { ProposalsView } from './runs';
import type { RunSummary } from './operation';

/** What the metrics read, per cluster, through the service (service/runs.ts RunService), as the scraper. */
export interface MetricsSource {
  clusters(): string[];
  proposals(actor: Actor, cluster: string): Promise<ProposalsView>;
  recoveryPoint(actor: Actor, cluster: string): Promise<RecoveryPoint>;
  list(actor: Actor, cluster?: string, limit?: number): Promise<RunSummary[]>;
}

/** How many of a cluster's newest runs the run metrics count. */
export const RUNS_LOOK_BACK = 200;

const runbookOf = new Map(Object.entries(RUNBOOKS).map(([name, e]) => [e.workflow as string, name]));

/**
 * Prometheus metrics of every cluster the service has an inventory of, read at scrape time (no
 * state of their own): the watch's last probe (workflows/watchCluster.ts) per member and per
 * cluster, open proposals and reports, the recovery point and the last drill (from the drill runs),
 * and the newest runs by runbook and outcome with their durations. A cluster that cannot be read
 * sets `etcd_runbooks_cluster_read_ok` 0 and nothing else of its own. All gauges: they are
 * observations of state Temporal holds, not counts this process keeps. Names and labels:
 * docs/operations.md "Metrics"; alert rules deploy/prometheus/etcd-runbooks-rules.yml.
 */
export class ClusterMetrics {
  readonly registry = new Registry();
  private readonly gauge = (name: string, help: string, labelNames: string[]) => new Gauge({ name: `etcd_runbooks_${name}`, help, labelNames, registers: [this.registry] });
  private readonly m = {
    readOk: this.gauge('cluster_read_ok', '1 when the cluster\'s watch, runs and drills could be read at this scrape', ['cluster']),
    watching: this.gauge('watch_up', '1 when a watch runs for the cluster and its last probe read the cluster', ['cluster']),
    lastProbe: this.gauge('watch_last_probe_timestamp_seconds', 'when the watch last probed (seconds since the epoch)', ['cluster']),
    failedProbes: this.gauge('watch_failed_probes', 'probes that could not read the cluster, since the watch started', ['cluster']),
    voters: this.gauge('cluster_voters', 'voting members in the last probe', ['cluster']),
    votersServing: this.gauge('cluster_voters_serving', 'voting members whose etcd answered another node in the last probe', ['cluster']),
    hasLeader: this.gauge('cluster_has_leader', '1 when the serving members follow a leader', ['cluster']),
    alarm: this.gauge('cluster_alarm', '1 when a member raised the alarm (NOSPACE, CORRUPT)', ['cluster', 'alarm']),
    serving: this.gauge('member_etcd_serving', '1 when the member\'s etcd answered another node (its client URL), judged apart from SSH', ['cluster', 'node']),
    ssh: this.gauge('member_ssh_up', '1 when the member\'s node answered SSH', ['cluster', 'node']),
    leader: this.gauge('member_is_leader', '1 for the member the others follow', ['cluster', 'node']),
    learner: this.gauge('member_is_learner', '1 for a learner (not voting)', ['cluster', 'node']),
    raftIndex: this.gauge('member_raft_index', 'the member\'s raft index', ['cluster', 'node']),
    dbSize: this.gauge('member_db_size_bytes', 'size of the member\'s database file', ['cluster', 'node']),
    dbInUse: this.gauge('member_db_size_in_use_bytes', 'bytes of the database file in use (the rest a defrag gives back)', ['cluster', 'node']),
    dbQuota: this.gauge('member_db_quota_bytes', 'the member\'s backend quota (--quota-backend-bytes)', ['cluster', 'node']),
    certDays: this.gauge('member_certificate_days_left', 'days until the certificate (ca, server, peer, client) on the member\'s node expires', ['cluster', 'node', 'role']),
    diskFree: this.gauge('member_data_dir_free_bytes', 'free bytes on the filesystem of the member\'s data dir', ['cluster', 'node']),
    proposals: this.gauge('proposals_open', 'open proposals of the watch, by runbook', ['cluster', 'runbook']),
    reports: this.gauge('reports_open', 'open reports of the watch (findings that propose nothing)', ['cluster']),
    rpAge: this.gauge('recovery_point_age_seconds', 'age of the newest backup that passed a restore drill', ['cluster']),
    drillPassed: this.gauge('last_drill_passed', '1 when the newest restore drill passed, 0 when it failed', ['cluster']),
    runs: this.gauge('runs', `runs among the cluster's newest ${RUNS_LOOK_BACK}, by runbook and outcome`, ['cluster', 'runbook', 'outcome']),
    runSeconds: this.gauge('runs_duration_seconds_sum', 'total duration of those closed runs', ['cluster', 'runbook', 'outcome']),
    lastRunSeconds: this.gauge('last_run_duration_seconds', 'duration of the newest closed run of each runbook and outcome', ['cluster', 'runbook', 'outcome']),
  };

  constructor(private readonly source: MetricsSource) {}

  /** The exposition text for `actor` (role viewer: every read checks it), read now. */
  async render(actor: Actor): Promise<string> {
    this.registry.resetMetrics();
    await Promise.all(this.source.clusters().map((c) => this.readCluster(actor, c)));
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private async readCluster(actor: Actor, cluster: string): Promise<void> {
    try {
      const [view, rp, runs] = await Promise.all([this.source.proposals(actor, cluster), this.source.recoveryPoint(actor, cluster), this.source.list(actor, cluster, RUNS_LOOK_BACK)]);
      this.watch(cluster, view);
      if (rp.passed?.ageSeconds !== undefined) this.m.rpAge.set({ cluster }, rp.passed.ageSeconds);
      if (rp.failed || rp.passed) this.m.drillPassed.set({ cluster }, rp.failed ? 0 : 1);
      this.runs(cluster, runs);
      this.m.readOk.set({ cluster }, 1);
    } catch {
      this.m.readOk.set({ cluster }, 0);
    }
  }

  private watch(cluster: string, v: ProposalsView): void {
    const probe = v.watching ? v.last : undefined;
    this.m.watching.set({ cluster }, v.watching && !v.lastError && probe ? 1 : 0);
    if (!v.watching) return;
    if (v.lastProbeAt !== undefined) this.m.lastProbe.set({ cluster }, v.lastProbeAt / 1000);
    this.m.failedProbes.set({ cluster }, v.failedProbes);
    const byRunbook = new Map<string, number>();
    for (const p of v.proposals.filter((x) => x.status === 'open')) byRunbook.set(p.runbook, (byRunbook.get(p.runbook) ?? 0) + 1);
    for (const [runbook, n] of byRunbook) this.m.proposals.set({ cluster, runbook }, n);
    this.m.reports.set({ cluster }, v.reports.filter((r) => r.status === 'open').length);
    if (!probe) return;
    const leader = leaderOf(probe);
    const voters = probe.members.filter((m) => !m.learner);
    this.m.voters.set({ cluster }, voters.length);
    this.m.votersServing.set({ cluster }, voters.filter((m) => m.etcd === 'serving' && !m.foreign).length);
    this.m.hasLeader.set({ cluster }, leader ? 1 : 0);
    this.m.alarm.set({ cluster, alarm: 'NOSPACE' }, probe.alarms.noSpace.length ? 1 : 0);
    this.m.alarm.set({ cluster, alarm: 'CORRUPT' }, probe.alarms.corrupt.length ? 1 : 0);
    for (const m of probe.members) {
      const l = { cluster, node: m.node };
      this.m.serving.set(l, m.etcd === 'serving' && !m.foreign ? 1 : 0);
      this.m.ssh.set(l, m.ssh ? 1 : 0);
      this.m.learner.set(l, m.learner ? 1 : 0);
      this.m.leader.set(l, leader !== undefined && m.memberId === leader ? 1 : 0);
      if (m.raftIndex !== undefined) this.m.raftIndex.set(l, m.raftIndex);
      if (m.db) {
        this.m.dbSize.set(l, m.db.size);
        this.m.dbInUse.set(l, m.db.inUse);
        if (m.db.quota) this.m.dbQuota.set(l, m.db.quota);
      }
      for (const c of m.facts?.certs ?? []) this.m.certDays.set({ ...l, role: c.role }, Math.floor((c.notAfter - Date.now()) / 86_400_000));
      if (m.facts?.dataDirFree !== undefined) this.m.diskFree.set(l, m.facts.dataDirFree);
    }
  }

  private runs(cluster: string, runs: RunSummary[]): void {
    const seen = new Set<string>();
    for (const r of runs) {
      const labels = { cluster, runbook: runbookOf.get(r.workflow) ?? r.workflow, outcome: r.state };
      const key = `${labels.runbook} ${labels.outcome}`;
      this.m.runs.inc(labels);
      if (!r.closedAt) continue;
      const seconds = (Date.parse(r.closedAt) - Date.parse(r.startedAt)) / 1000;
      this.m.runSeconds.inc(labels, seconds);
      // Newest first: the first closed run of a kind is the newest.
      if (!seen.has(key)) { seen.add(key); this.m.lastRunSeconds.set(labels, seconds); }
    }
  }
}
