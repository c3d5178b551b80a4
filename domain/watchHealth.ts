import type { Finding, WatchedMember, WatchProbe } from './watch';

/**
 * Limits of the health findings read from the members' statuses.
 * - `lagEntries`: a member this many raft entries behind the most advanced one is lagging. 5,000 is
 *   etcd's `--snapshot-catchup-entries` default: a follower further behind is sent a snapshot.
 * - `quotaRatio`: a database file at 80% of its backend quota is near NOSPACE.
 * - `fragmentedInUse`: a file whose in-use share is at most 50% gets back at least half by a defrag.
 * - `learnerReady`: a learner whose raft index is at least 90% of the leader's is caught up (etcd's
 *   own promote check, `isLearnerReady` in server/etcdserver/server.go).
 * - `leaderChanges` in `leaderWindowMs`: 4 leader changes in 15 minutes is churn (disk or network
 *   latency), the etcd mixin's `etcdHighNumberOfLeaderChanges` (etcd contrib/mixin).
 * Sources: etcd docs "Maintenance: Space quota", "Maintenance: Defragmentation", "Learner design".
 */
export const HEALTH = { lagEntries: 5_000, quotaRatio: 0.8, fragmentedInUse: 0.5, learnerReady: 0.9, leaderChanges: 4, leaderWindowMs: 15 * 60_000 } as const;

/** How long each health finding must last before it is proposed or reported (seconds). A learner catches up in minutes; skew lasts during a rolling upgrade. */
export const HEALTH_THRESHOLDS = { noLeader: 30, lagging: 60, dbQuota: 60, learnerStuck: 1200, versionSkew: 3600, leaderChurn: 0 } as const;

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
const minor = (v: string) => /^(\d+\.\d+)/.exec(v)?.[1];
/** Members that gave a status this probe (their etcd answered another node). */
const answered = (p: WatchProbe) => p.members.filter((m) => m.etcd === 'serving' && !m.foreign);

/**
 * The leader the serving members follow: the one most of them name, or undefined when none names
 * one ('0' or absent is "no leader"). Ties go to the smaller ID (deterministic).
 */
export function leaderOf(p: WatchProbe): string | undefined {
  const votes = new Map<string, number>();
  for (const m of answered(p)) if (m.leader && m.leader !== '0') votes.set(m.leader, (votes.get(m.leader) ?? 0) + 1);
  return [...votes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
}

/**
 * Findings from the members' statuses, pure: no leader while members serve; a lagging member
 * (raft index `lagEntries` behind the most advanced); a learner that has stayed one (promote when
 * caught up, else remove it: it can be added again); versions of different minors (reported: an
 * upgrade in progress, or one left half done); the database near its quota (defrag when at least
 * half the file is free space, else a report: compact or raise the quota); leader churn
 * (`leaderChanges` given: the times of the recent leader changes, ms). Nothing when NOSPACE is
 * raised (that finding proposes the defrag) or when no member gave a status.
 */
export function healthFindings(p: WatchProbe, leaderChanges: readonly number[]): Finding[] {
  const serving = answered(p);
  if (!serving.length) return [];
  const out: Finding[] = [];
  const leader = leaderOf(p);
  const reporting = serving.filter((m) => m.leader !== undefined);
  if (reporting.length && !leader) out.push({ key: 'no-leader', thresholdSeconds: HEALTH_THRESHOLDS.noLeader, evidence: `no leader: ${reporting.map((m) => m.node).join(', ')} answer, none follows a leader (an election that does not end: peer traffic or disk latency)` });
  const recent = leaderChanges.filter((t) => p.at - t <= HEALTH.leaderWindowMs);
  if (recent.length >= HEALTH.leaderChanges) {
    out.push({ key: 'leader-churn', thresholdSeconds: HEALTH_THRESHOLDS.leaderChurn, evidence: `${recent.length} leader changes in the last ${HEALTH.leaderWindowMs / 60_000} minutes: look at disk fsync and peer round-trip latency` });
  }
  const indexed = serving.filter((m) => m.raftIndex !== undefined);
  const top = Math.max(...indexed.map((m) => m.raftIndex!));
  const leaderIndex = serving.find((m) => m.memberId !== undefined && m.memberId === leader)?.raftIndex ?? top;
  for (const m of indexed.filter((x) => !x.learner && top - x.raftIndex! >= HEALTH.lagEntries)) {
    out.push({ key: `lagging:${m.node}`, node: m.node, thresholdSeconds: HEALTH_THRESHOLDS.lagging, evidence: `${m.node} lags: raft index ${m.raftIndex}, ${top - m.raftIndex!} behind the most advanced member (${top}): look at its disk and network` });
  }
  for (const m of p.members.filter((x) => x.learner && !x.foreign)) out.push(learnerFinding(m, leaderIndex));
  const minors = [...new Set(serving.map((m) => m.version && minor(m.version)).filter((v): v is string => !!v))];
  if (minors.length > 1) {
    out.push({ key: 'version-skew', thresholdSeconds: HEALTH_THRESHOLDS.versionSkew, evidence: `members run different minors: ${serving.filter((m) => m.version).map((m) => `${m.node} ${m.version}`).join(', ')}: finish the upgrade (upgrade --to) or roll it back` });
  }
  if (!p.alarms.noSpace.length) out.push(...dbFindings(serving));
  return out;
}

function learnerFinding(m: WatchedMember, leaderIndex: number): Finding {
  const base = { key: `learner:${m.node}`, node: m.node, thresholdSeconds: HEALTH_THRESHOLDS.learnerStuck };
  const at = m.raftIndex;
  if (at !== undefined && leaderIndex > 0 && at >= leaderIndex * HEALTH.learnerReady) {
    return { ...base, evidence: `${m.node} is still a learner, caught up (raft index ${at} of the leader's ${leaderIndex}): promote it`, propose: { runbook: 'promote', fields: { node: m.node } } };
  }
  return {
    ...base,
    evidence: `${m.node} is still a learner, not caught up (raft index ${at ?? 'unknown'} of the leader's ${leaderIndex || 'unknown'}): remove it, then cleanup and add-member again`,
    propose: { runbook: 'remove-member', fields: { node: m.node } },
  };
}

/** The database near its quota, on the members that report both (the quota is the member's own). */
function dbFindings(serving: WatchedMember[]): Finding[] {
  const full = serving.filter((m) => m.db?.quota && m.db.size >= m.db.quota * HEALTH.quotaRatio);
  if (!full.length) return [];
  const said = full.map((m) => `${m.node} ${mib(m.db!.size)} of ${mib(m.db!.quota!)} (${mib(m.db!.inUse)} in use)`).join(', ');
  if (full.every((m) => m.db!.inUse <= m.db!.size * HEALTH.fragmentedInUse)) {
    return [{ key: 'db-fragmented', thresholdSeconds: HEALTH_THRESHOLDS.dbQuota, evidence: `database near its quota, mostly free space: ${said}: defrag before NOSPACE`, propose: { runbook: 'defrag', fields: {} } }];
  }
  return [{ key: 'db-full', thresholdSeconds: HEALTH_THRESHOLDS.dbQuota, evidence: `database near its quota and in use: ${said}: compact the history or raise --quota-backend-bytes before NOSPACE` }];
}
