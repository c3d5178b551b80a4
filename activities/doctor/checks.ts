import { X509Certificate } from 'node:crypto';
import { parseVersion, type NodeEtcdTools } from '../../domain/etcdVersion';
import { MAX_CHANNELS } from '../ssh/session';
import { mib, WAL_RESERVE_BYTES } from '../node/disk';

/** `ok`, a `warn`ing (runbooks work, but slower or soon not), or a `fail` (a runbook would stop on it, or worse). */
export type Verdict = 'ok' | 'warn' | 'fail';

/** One line of `doctor`'s table. */
export interface DoctorRow { node: string; check: string; verdict: Verdict; found: string; fix?: string }

const row = (node: string, check: string, verdict: Verdict, found: string, fix?: string): DoctorRow => ({ node, check, verdict, found, ...(fix ? { fix } : {}) });

/**
 * etcdctl (and, from 3.5 on, etcdutl) of the member's minor version beside the etcd it runs: an
 * etcdctl 3.4 cannot read a 3.6 member's `snapshot status`, and etcdctl 3.6 has no `snapshot
 * restore` (moved to etcdutl in 3.5, removed from etcdctl in 3.6). Source: etcd docs "etcdutl".
 */
export function judgeTools(node: string, t: NodeEtcdTools): DoctorRow[] {
  const server = parseVersion(t.server);
  if (!server) return [row(node, 'etcd tools', 'warn', `server version unread; etcdctl ${t.etcdctl ?? 'missing'}, etcdutl ${t.etcdutl ?? 'missing'}`, 'check the unit\'s ExecStart binary or the manifest\'s image tag')];
  const minor = `${server.major}.${server.minor}`;
  const out: DoctorRow[] = [];
  const ctl = parseVersion(t.etcdctl);
  if (!ctl) out.push(row(node, 'etcdctl', 'fail', 'not installed', `install etcdctl ${t.server} on the node (PATH of the SSH user)`));
  else if (ctl.major !== server.major || ctl.minor !== server.minor) out.push(row(node, 'etcdctl', 'fail', `etcdctl ${t.etcdctl} beside etcd ${t.server}`, `install etcdctl ${minor}.x (the server's minor version)`));
  else out.push(row(node, 'etcdctl', 'ok', `etcdctl ${t.etcdctl}, etcd ${t.server}`));
  if (server.minor >= 5 || server.major > 3) {
    const utl = parseVersion(t.etcdutl);
    if (!utl) out.push(row(node, 'etcdutl', 'fail', 'not installed (snapshot status and restore need it from 3.5 on)', `install etcdutl ${t.server}`));
    else if (utl.major !== server.major || utl.minor !== server.minor) out.push(row(node, 'etcdutl', 'fail', `etcdutl ${t.etcdutl} beside etcd ${t.server}`, `install etcdutl ${minor}.x`));
    else out.push(row(node, 'etcdutl', 'ok', `etcdutl ${t.etcdutl}`));
  }
  return out;
}

/**
 * Free space where a runbook writes: the data dir's filesystem must hold a restored copy of the
 * database and etcd's preallocated WAL (fail below that), better twice the database (warn); the
 * backup dir a snapshot. Source: etcd docs "Hardware recommendations" (disks); reference 002.
 */
export function judgeDisk(node: string, what: string, path: string, free: number, dbSize: number): DoctorRow {
  const need = (what === 'data dir' ? WAL_RESERVE_BYTES : 0) + dbSize;
  const found = `${mib(free)} free at ${path} (database ${mib(dbSize)})`;
  if (free < need) return row(node, `disk: ${what}`, 'fail', found, `free at least ${mib(need - free)} there`);
  if (free < need + dbSize) return row(node, `disk: ${what}`, 'warn', found, `a second copy (a moved-aside data dir, a second snapshot) will not fit: free ${mib(need + dbSize - free)} more`);
  return row(node, `disk: ${what}`, 'ok', found);
}

/** sshd's MaxSessions: below MAX_CHANNELS the worker runs fewer commands at once on the node (it learns the limit from refusals). */
export function judgeMaxSessions(node: string, maxSessions: number | undefined): DoctorRow {
  if (maxSessions === undefined) return row(node, 'sshd MaxSessions', 'warn', 'unread (sshd -T did not answer)', 'run doctor as a user allowed to read sshd -T, or check /etc/ssh/sshd_config');
  if (maxSessions < MAX_CHANNELS) return row(node, 'sshd MaxSessions', 'warn', `${maxSessions}: runbooks open up to ${MAX_CHANNELS} commands at once`, `MaxSessions ${MAX_CHANNELS + 2} in /etc/ssh/sshd_config, then systemctl reload ssh`);
  return row(node, 'sshd MaxSessions', 'ok', String(maxSessions));
}

/** etcd warns of peers whose clocks differ by over 1 s (rafthttp's prober: "prober found high clock drift"). */
export const CLOCK_DRIFT_LIMIT_MS = 1_000;

/**
 * Clock offsets of the nodes against this host (ms, each ± its measurement error): the spread
 * between nodes is what etcd sees between peers. One row per node: fail past the limit.
 */
export function judgeClocks(offsets: Array<{ node: string; offsetMs: number; errorMs: number }>): DoctorRow[] {
  if (!offsets.length) return [];
  const median = [...offsets].sort((a, b) => a.offsetMs - b.offsetMs)[Math.floor(offsets.length / 2)].offsetMs;
  return offsets.map(({ node, offsetMs, errorMs }) => {
    const off = Math.round(offsetMs - median);
    const found = `${off >= 0 ? '+' : ''}${off} ms against the nodes' median (±${Math.round(errorMs)} ms)`;
    return Math.abs(off) - errorMs > CLOCK_DRIFT_LIMIT_MS
      ? row(node, 'clock', 'fail', found, 'run time sync on every node (systemd-timesyncd or chrony) against the same servers')
      : row(node, 'clock', 'ok', found);
  });
}

/** Days before a certificate's expiry under which doctor warns (fail under 7). */
export const CERT_WARN_DAYS = 30;

/** The expiry of each PEM certificate in `pem` (a chain: the first is the leaf). Throws on text that holds none. */
export function certificatesIn(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new Error('no PEM certificate');
  return blocks.map((b) => new X509Certificate(b));
}

/** A certificate file's leaf expiry against `now`: fail when expired or within 7 days, warn within CERT_WARN_DAYS. */
export function judgeCertificate(node: string, role: string, path: string, pem: string | undefined, now: Date): DoctorRow {
  const check = `certificate: ${role}`;
  if (pem === undefined) return row(node, check, 'fail', `${path} cannot be read`, 'the inventory\'s tls paths must exist on every node');
  let cert: X509Certificate;
  try {
    cert = certificatesIn(pem)[0];
  } catch (e) {
    return row(node, check, 'fail', `${path}: ${(e as Error).message}`, 'point the inventory\'s tls paths at PEM certificates');
  }
  const days = Math.floor((new Date(cert.validTo).getTime() - now.getTime()) / 86_400_000);
  const found = `${path} expires ${new Date(cert.validTo).toISOString().slice(0, 10)} (${days} days)`;
  const fix = 'renew it before then (kubeadm: kubeadm certs renew etcd-server etcd-peer etcd-healthcheck-client apiserver-etcd-client; else from your CA), keeping its SANs';
  if (days < 7) return row(node, check, 'fail', found, fix);
  if (days < CERT_WARN_DAYS) return row(node, check, 'warn', found, fix);
  return row(node, check, 'ok', found);
}
