import Table from 'cli-table3';
import type { CliLatency, SshRoundTrip } from './extras';
import type { RunBreakdown } from './history';
import { median, secs } from './stats';

/** One timed round: the floor script or the runbook (with its history breakdown), and the steady writer's count if one ran. */
export interface Sample { kind: 'floor' | 'runbook'; seconds: number; error?: string; breakdown?: RunBreakdown; writes?: number; failedWrites?: number; writeErrors?: string[] }
export interface CaseResult { name: string; samples: Sample[] }
/**
 * A run of expand 1->3 whose worker was SIGKILLed `killAtSeconds` after the start and a new one
 * started at once: lost = kill -> the new worker's first task of the run (worker start included);
 * overMedian = the run's wall time minus the median uninterrupted run (noisy: etcd's own waits vary).
 */
export interface CrashSample { killAtSeconds: number; seconds: number; lostSeconds: number; overMedianSeconds: number }
export interface Report { pairs: number; size: number; results: CaseResult[]; crashes: CrashSample[]; cli: CliLatency[]; ssh: SshRoundTrip; workerPeakRssMiB: number }

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const range = (xs: number[]) => `${f2(Math.min(...xs))} / ${f2(Math.max(...xs))}`;
const table = (head: string[]) => new Table({ style: { head: [], border: [] }, head });

/** Prints the bench's tables: floor vs runbook per case, per-step time, and the extras. */
export function printReport(r: Report): void {
  const summary = table(['runbook', 'floor median s', 'runbook median s', 'ratio', 'floor min/max s', 'runbook min/max s', 'orchestration median s', 'failed writes floor / runbook', 'failed rounds']);
  const steps = table(['runbook', 'step (activity)', 'attempts', 'in activity s', 'in node commands s']);
  for (const c of r.results) {
    // Medians over the rounds that completed; failed rounds are counted apart.
    const fl = c.samples.filter((s) => s.kind === 'floor' && !s.error);
    const rb = c.samples.filter((s) => s.kind === 'runbook' && !s.error);
    const failedRounds = c.samples.filter((s) => s.error).map((s) => s.kind);
    const f = fl.map((s) => s.seconds);
    const w = rb.map((s) => s.seconds);
    const failed = (xs: Sample[]) => (xs.some((s) => s.writes !== undefined) ? xs.map((s) => `${s.failedWrites}/${(s.writes ?? 0) + (s.failedWrites ?? 0)}`).join(' ') : '-');
    summary.push([c.name, f2(median(f)), f2(median(w)), f2(median(w) / median(f)), range(f), range(w), secs(median(rb.map((s) => s.breakdown!.orchestrationMs))), `${failed(fl)} | ${failed(rb)}`, failedRounds.join(', ') || '0']);
    const types = [...new Set(rb.flatMap((s) => s.breakdown!.steps.map((x) => x.type)))];
    const per = (t: string, k: 'count' | 'activityMs' | 'commandMs') => median(rb.map((s) => s.breakdown!.steps.find((x) => x.type === t)?.[k] ?? 0));
    for (const t of types.sort((a, b) => per(b, 'activityMs') - per(a, 'activityMs'))) steps.push([c.name, t, per(t, 'count'), secs(per(t, 'activityMs')), secs(per(t, 'commandMs'))]);
  }
  console.log(`${r.pairs} pairs per runbook, ${r.size} MiB of data, etcd 3.6; medians`);
  console.log(summary.toString());
  console.log(steps.toString());
  const extras = table(['measure', 'median', 'min / max', 'n']);
  for (const l of r.cli) extras.push([`CLI ${l.what} (exit ${l.exitCode})`, `${f2(l.medianSeconds)} s`, range([l.minSeconds, l.maxSeconds]), 5]);
  if (r.crashes.length) {
    // Not finite: the run had no task left for the new worker (it finished around the kill).
    const lost = r.crashes.map((c) => c.lostSeconds).filter(Number.isFinite);
    extras.push(['time lost per worker crash (kill -> run moves on the new worker)', `${f2(median(lost))} s`, lost.length ? range(lost) : '-', `${lost.length} of ${r.crashes.length}`]);
    const over = r.crashes.map((c) => c.overMedianSeconds);
    extras.push(['expand 1->3 with a worker crash, over the uninterrupted median', `${f2(median(over))} s`, range(over), over.length]);
  }
  extras.push([`SSH command round trip (true on ${r.ssh.node}, open session)`, `${f2(r.ssh.medianMs)} ms`, range([r.ssh.minMs, r.ssh.maxMs]), r.ssh.n]);
  extras.push(['worker peak RSS (VmHWM)', `${r.workerPeakRssMiB} MiB`, '-', 1]);
  console.log(extras.toString());
}
