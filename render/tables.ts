import Table from 'cli-table3';
import type { ClusterState, DoctorRow, KubeState } from '../activities';
import { kubeDrift } from '../domain/kubeSync';
import type { PlanStep, RunbookProgress } from '../domain/progress';
import type { ProposalsView } from '../service/runs';
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
  const away = (state.foreign ?? []).map((f) => `  ${f.node ?? f.endpoint} (${f.endpoint}): ${f.reason}`);
  const foreign = away.length ? `\nANOTHER CLUSTER on inventory nodes (left out of every read and write; add-member, replace, migrate, upgrade, defrag, rotate-certs and remove-member of another node refuse until it is fixed: remove-member, cleanup and add-member it again, or restore):\n${away.join('\n')}` : '';
  return `cluster ${state.clusterId} (${cv}leader ${state.leader ?? 'none'}; ${health})\n${t.toString()}${foreign}`;
}

/**
 * `proposals`: one row per proposal and report of the cluster's watch, open first: what, the run
 * it proposes as the CLI would take it (`replace --failed node2 --replacement node4`), since when
 * (UTC), and the evidence. Then the watch's last probe, or that no watch runs.
 */
export function proposalsTable(v: ProposalsView): string {
  if (!v.watching) return `no watch runs for ${v.cluster} (the worker keeps one per cluster with ETCD_RUNBOOKS_WATCH=on)`;
  const t = new Table({ style: PLAIN, head: ['status', 'finding (id to accept)', 'proposed run', 'since (UTC)', 'evidence'], colWidths: [10, 30, 44, 22, 70], wordWrap: true });
  const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  const run = (p: { runbook: string; fields: Record<string, unknown> }) => [p.runbook, ...Object.entries(p.fields).map(([k, x]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${Array.isArray(x) ? x.join(',') : String(x)}`)].join(' ');
  const accepted = (p: ProposalsView['proposals'][number]) => (p.accepted ? `\naccepted by ${p.accepted.by}: ${p.accepted.workflow} ${p.accepted.state}` : '');
  const rows = [...v.proposals.map((p) => ({ ...p, finding: p.id, run: run(p) + accepted(p) })), ...v.reports.map((r) => ({ ...r, finding: r.key, run: '(report: nothing proposed)' }))]
    .sort((a, b) => (a.status === b.status ? b.openedAt - a.openedAt : a.status === 'open' ? -1 : 1));
  for (const r of rows) t.push([r.status, r.finding, r.run, when(r.since), r.evidence]);
  const running = v.last?.running ? `; new proposals held while ${v.last.running.workflow} runs (since ${when(v.last.running.since)})` : '';
  const last = v.lastProbeAt !== undefined ? `last probe ${when(v.lastProbeAt)}${v.lastError ? ` FAILED: ${v.lastError}` : running}` : 'no probe yet';
  const hint = v.proposals.some((p) => p.status === 'open' && !p.accepted) ? '\nto start a proposed run as you: etcd-runbooks accept <id> -i <inventory>' : '';
  return `watch of ${v.cluster}: probe every ${v.intervalSeconds} s; ${v.probes} probes, ${v.failedProbes} failed; ${last}\n${rows.length ? t.toString() : 'nothing proposed or reported'}${hint}`;
}

/**
 * The control plane next to the members: per control-plane node, the running apiserver's
 * --etcd-servers, readiness and kubeadm config file, then the drift lines (or "no drift"), as
 * `cm-kubeadm-manage status` shows them.
 */
export function controlPlaneTable(kube: KubeState): string {
  const t = new Table({ style: PLAIN, head: ['control plane', 'apiserver', '--etcd-servers (running)', 'kubeadm config file'] });
  for (const n of kube.nodes) {
    t.push([n.node, !n.reachable ? 'NO SSH' : !n.apiserver ? 'not running' : n.ready ? 'ready' : 'NOT READY',
      n.apiserver?.etcdServers.join(',') ?? '-', n.fileEndpoints?.join(',') ?? (n.error ? n.error.slice(0, 60) : '-')]);
  }
  const cm = kube.configMap && 'endpoints' in kube.configMap ? kube.configMap.endpoints.join(',') : `unreadable (${kube.configMap?.error ?? '?'})`;
  const drift = kubeDrift(kube);
  return `control plane: members offer ${kube.desired.join(',') || '(none)'}; kubeadm-config lists ${cm}\n${t.toString()}\n${drift.length ? `drift (fix: etcd-runbooks kube-sync):\n  ${drift.join('\n  ')}` : 'no drift: every apiserver and kubeadm config lists exactly the voting members'}`;
}

/** The plan as shown before the run proceeds. */
export function planTable(p: RunbookProgress): string {
  const t = new Table({ style: PLAIN, head: ['#', 'step', 'status'] });
  p.steps.forEach((s, i) => t.push([i + 1, s.title, s.status]));
  return t.toString();
}

const MARK: Record<PlanStep['status'], string> = { pending: ' ', running: '>', done: '✓', skipped: '-', failed: '✗', compensated: '↺' };

/** One progress line for a step that changed state; a planned step (dry run) with its projection. */
export function stepLine(s: PlanStep): string {
  const took = s.startedAt && s.finishedAt ? ` (${((Date.parse(s.finishedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)} s)` : '';
  const p = s.projection;
  const after = p ? ` — then ${p.voters} voters, ${p.serving} serving, quorum ${p.quorum}, ${toleranceWords(p.tolerance)}; a cancel here ${p.onCancel}` : '';
  return `[${MARK[s.status]}] ${s.title}${took}${s.detail ? ` — ${s.detail}` : ''}${after}`;
}

/** Fault tolerance in words: `tolerates 1 failure`, `tolerates none`, `no quorum`. */
function toleranceWords(t: number): string {
  return t < 0 ? 'no quorum' : t === 0 ? 'tolerates no failure' : `tolerates ${t} failure${t === 1 ? '' : 's'}`;
}

/**
 * A dry run's plan: each step with the members projected after it (voters, serving, quorum, fault
 * tolerance) and what a cancel during it would do.
 */
export function dryRunTable(steps: readonly PlanStep[]): string {
  const t = new Table({ style: { ...PLAIN, compact: true }, head: ['#', 'step', 'voters', 'serving', 'quorum', 'tolerates', 'a cancel here'], wordWrap: true, colWidths: [null, 56, null, null, null, null, 56] });
  steps.forEach((s, i) => {
    const p = s.projection;
    t.push([i + 1, s.title, p?.voters ?? '', p?.serving ?? '', p?.quorum ?? '', p ? (p.tolerance < 0 ? 'no quorum' : p.tolerance) : '', p?.onCancel ?? s.status]);
  });
  return t.toString();
}

export function formatBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

/** A snapshot-like object (`node` and `path`) as `node:path`, else its scalar fields as `k=v`. */
function objectWords(o: Record<string, unknown>): string {
  const head = typeof o.node === 'string' && typeof o.path === 'string' ? `${o.node}:${o.path}` : '';
  const rest = Object.entries(o).filter(([k, v]) => !(head && (k === 'node' || k === 'path')) && v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k} ${k === 'sha256' && typeof v === 'string' ? `${v.slice(0, 12)}...` : String(v)}`);
  return [head, rest.length ? `(${rest.join(', ')})` : ''].filter(Boolean).join(' ') || '-';
}

/**
 * A runbook's result as lines of words, one field each (the approvals are shown as the run goes,
 * not again): scalars as they are, lists joined by commas ("none" when empty), a snapshot as
 * `node:path (revision ..., sha256 ...)`, other objects by their scalar fields.
 */
export function resultLines(result: unknown): string[] {
  if (result === null || typeof result !== 'object') return [`  ${String(result)}`];
  return Object.entries(result as Record<string, unknown>).filter(([k, v]) => k !== 'approvals' && v !== undefined).map(([k, v]) => {
    if (Array.isArray(v)) return `  ${k}: ${v.length ? v.map((x) => (x && typeof x === 'object' ? objectWords(x as Record<string, unknown>) : String(x))).join(', ') : 'none'}`;
    if (v && typeof v === 'object') return `  ${k}: ${objectWords(v as Record<string, unknown>)}`;
    return `  ${k}: ${String(v)}`;
  });
}

/** `doctor`'s table: one row per check, the fix beside each problem; then the count of each verdict. */
export function doctorTable(rows: readonly DoctorRow[]): string {
  const t = new Table({ style: { ...PLAIN, compact: true }, head: ['node', 'check', 'result', 'found', 'fix'], wordWrap: true, colWidths: [null, null, null, 64, 64] });
  for (const r of rows) t.push([r.node, r.check, r.verdict === 'ok' ? 'ok' : r.verdict === 'warn' ? 'WARN' : 'FAIL', r.found, r.fix ?? '']);
  const n = (v: DoctorRow['verdict']) => rows.filter((r) => r.verdict === v).length;
  return `${t.toString()}\n${rows.length} checks: ${n('ok')} ok, ${n('warn')} warnings, ${n('fail')} problems${n('fail') ? ' (fix them before any runbook)' : ''}`;
}
