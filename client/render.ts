import Table from 'cli-table3';
import type { ClusterState } from '../activities';
import type { PlanStep, RunbookProgress } from '../domain/progress';
import { faultTolerance, quorumSize } from '../domain/quorum';

/** No colours: output is read in logs and CI as often as on a terminal. */
const PLAIN = { head: [], border: [] };

/** The member table of `status` and of the end of a runbook: one row per member. */
export function memberTable(state: ClusterState): string {
  const t = new Table({ style: PLAIN, head: ['member', 'id', 'role', 'health', 'raft index', 'applied', 'revision', 'db size', 'version', 'client URL'] });
  for (const m of [...state.members].sort((a, b) => a.name.localeCompare(b.name))) {
    const role = m.name === '' ? 'unstarted' : m.isLearner ? 'learner' : m.isLeader ? 'leader' : 'voter';
    const s = m.status;
    t.push([m.name || '-', m.id, role, m.healthy ? 'healthy' : `UNHEALTHY${m.error ? `: ${m.error.slice(0, 40)}` : ''}`,
      s?.raftIndex ?? '-', s?.raftAppliedIndex ?? '-', s?.revision ?? '-', s ? formatBytes(s.dbSize) : '-', s?.version ?? '-', m.clientURLs.join(',') || '-']);
  }
  const voters = state.members.filter((m) => !m.isLearner).length;
  const health = voters ? `${voters} voting members, quorum ${quorumSize(voters)}, tolerates ${faultTolerance(voters)} failed` : 'no voting members';
  const cv = state.clusterVersion ? `cluster version ${state.clusterVersion.version}${state.clusterVersion.source === 'estimated' ? ' (estimated)' : ''}; ` : '';
  return `cluster ${state.clusterId} (${cv}leader ${state.leader ?? 'none'}; ${health})\n${t.toString()}`;
}

/** The plan as shown before the run proceeds. */
export function planTable(p: RunbookProgress): string {
  const t = new Table({ style: PLAIN, head: ['#', 'step', 'status'] });
  p.steps.forEach((s, i) => t.push([i + 1, s.title, s.status]));
  return t.toString();
}

const MARK: Record<PlanStep['status'], string> = { pending: ' ', running: '>', done: '✓', skipped: '-', failed: '✗', compensated: '↺' };

/** One progress line for a step that changed state. */
export function stepLine(s: PlanStep): string {
  const took = s.startedAt && s.finishedAt ? ` (${((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s)` : '';
  return `[${MARK[s.status]}] ${s.title}${took}${s.detail ? ` — ${s.detail}` : ''}`;
}

export function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}
