import type { Finding, WatchProbe } from './watch';

const hours = (ms: number) => (ms / 3_600_000).toFixed(1);

/**
 * Findings from the recovery point, pure, when the inventory names an objective
 * (`recoveryPointObjectiveHours`): no backup that passed a restore drill, or the newest one older
 * than the objective, proposes `backup` (then a drill makes it the recovery point: `drill`, or the
 * drill schedule); the newest drill failing after it is a report (a person reads why). Source:
 * reference 002 (backups copied off the cluster and checked); docs/operations.md "Scheduled
 * backups, off-node copies and restore drills".
 */
export function recoveryFindings(p: WatchProbe): Finding[] {
  const r = p.recovery;
  if (!r) return [];
  const out: Finding[] = [];
  const objectiveMs = r.objectiveHours * 3_600_000;
  if (r.takenAt === undefined) {
    out.push({ key: 'recovery-point', thresholdSeconds: 0, propose: { runbook: 'backup', fields: {} }, evidence: `no backup has passed a restore drill (objective ${r.objectiveHours} h): back up, then drill it` });
  } else if (p.at - r.takenAt > objectiveMs) {
    out.push({ key: 'recovery-point', thresholdSeconds: 0, propose: { runbook: 'backup', fields: {} }, evidence: `recovery point ${hours(p.at - r.takenAt)} h old (objective ${r.objectiveHours} h; taken ${new Date(r.takenAt).toISOString()}): back up, then drill it` });
  }
  if (r.drillFailed) out.push({ key: 'drill-failed', thresholdSeconds: 0, evidence: `the newest restore drill failed at ${new Date(r.drillFailed.at).toISOString()}: ${r.drillFailed.message}` });
  return out;
}
