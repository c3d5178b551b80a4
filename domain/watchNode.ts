import { WAL_RESERVE_BYTES } from './disk';
import type { Finding, WatchProbe } from './watch';

/**
 * Limits of the node findings: certificates expiring within 30 days (doctor's warning, CERT_WARN_DAYS),
 * clocks more than 1 s from the nodes' median (etcd's "prober found high clock drift" limit).
 */
export const NODE_LIMITS = { certDays: 30, clockMs: 1_000 } as const;

const DAY_MS = 86_400_000;
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Findings from the member nodes' facts (NodeFacts), pure, judged at the probe's time:
 * - the server, peer or client certificate of any member within NODE_LIMITS.certDays of expiry:
 *   one proposal for the cluster, `rotate-certs` (it renews every member's, same SANs);
 * - the CA within that: a report (rotate-certs keeps the CA; a new CA is a person's job);
 * - a data dir's filesystem with less free than the WAL reserve and two copies of the database
 *   (what a defrag, restore or moved-aside data dir needs): a report;
 * - a node's clock more than NODE_LIMITS.clockMs from the nodes' median (beyond the measurement's
 *   error): a report.
 * Source: the doctor checks (activities/doctor/checks.ts: judgeCertificate, judgeDisk, judgeClocks);
 * etcd docs "Hardware recommendations" (disk), "Transport security model" (certificates).
 */
export function nodeFindings(p: WatchProbe): Finding[] {
  const out: Finding[] = [];
  const withFacts = p.members.filter((m) => m.facts && !m.foreign);
  const soon = (role: string) => withFacts.flatMap((m) => m.facts!.certs.filter((c) => c.role === role && c.notAfter - p.at < NODE_LIMITS.certDays * DAY_MS).map((c) => ({ node: m.node, ...c })));
  const leaves = ['server', 'peer', 'client'].flatMap(soon).sort((a, b) => a.notAfter - b.notAfter);
  if (leaves.length) {
    const first = leaves[0];
    out.push({
      key: 'cert-expiry', thresholdSeconds: 0, propose: { runbook: 'rotate-certs', fields: {} },
      evidence: `certificates expire within ${NODE_LIMITS.certDays} days: ${leaves.map((c) => `${c.node} ${c.role} ${day(c.notAfter)}`).join(', ')}; the first in ${Math.floor((first.notAfter - p.at) / DAY_MS)} days: rotate-certs`,
    });
  }
  const ca = soon('ca');
  if (ca.length) out.push({ key: 'ca-expiry', thresholdSeconds: 0, evidence: `the CA certificate expires ${day(ca[0].notAfter)} (seen on ${ca.map((c) => c.node).join(', ')}): issue a new CA and distribute it before then (rotate-certs keeps the CA)` });
  for (const m of withFacts) {
    const free = m.facts!.dataDirFree;
    const db = m.db?.size ?? 0;
    if (free !== undefined && free < WAL_RESERVE_BYTES + 2 * db) {
      out.push({ key: `disk:${m.node}`, node: m.node, thresholdSeconds: 60, evidence: `${m.node}: ${mib(free)} free on its data dir's filesystem, database ${mib(db)}: a defrag, restore or moved-aside data dir needs ${mib(WAL_RESERVE_BYTES + 2 * db)}: free space there` });
    }
  }
  const clocks = withFacts.filter((m) => m.facts!.clock).map((m) => ({ node: m.node, ...m.facts!.clock! }));
  if (clocks.length > 1) {
    const median = [...clocks].sort((a, b) => a.offsetMs - b.offsetMs)[Math.floor(clocks.length / 2)].offsetMs;
    for (const c of clocks.filter((x) => Math.abs(x.offsetMs - median) - x.errorMs > NODE_LIMITS.clockMs)) {
      const off = Math.round(c.offsetMs - median);
      out.push({ key: `clock:${c.node}`, node: c.node, thresholdSeconds: 0, evidence: `${c.node}: clock ${off >= 0 ? '+' : ''}${off} ms from the nodes' median (±${Math.round(c.errorMs)} ms): run time sync (systemd-timesyncd or chrony) on every node` });
    }
  }
  return out;
}
