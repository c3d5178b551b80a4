import { z } from 'zod';
import { memberIdFrom } from '../../domain/memberId';
import type { AlarmView } from '../../domain/defrag';
import type { ClusterOps } from '../cluster';
import { CommandFailedError, PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';
import { parseJsonLossless } from './parse';

/** etcd's AlarmType enum (api/etcdserverpb/rpc.proto): 1 NOSPACE, 2 CORRUPT. */
const NOSPACE = 1;
const CORRUPT = 2;

const AlarmListJson = z.object({
  alarms: z.array(z.object({ memberID: z.bigint(), alarm: z.union([z.bigint(), z.number()]).transform(Number) })).default([]),
});

/**
 * `alarm list -w json` -> member IDs (hex) per alarm type. etcd omits `alarms` when none is
 * raised, and prints the enum as a number. Throws on output that is not that JSON.
 */
export function parseAlarmList(text: string): AlarmView {
  const r = AlarmListJson.safeParse(parseJsonLossless(text.trim()));
  if (!r.success) throw new Error(`etcdctl alarm list: unexpected JSON: ${text.slice(0, 200)}`);
  const of = (type: number) => r.data.alarms.filter((a) => a.alarm === type).map((a) => memberIdFrom(a.memberID));
  return { noSpace: of(NOSPACE), corrupt: of(CORRUPT) };
}

/**
 * The alarms raised in the cluster (alarms are replicated: any serving member lists them all),
 * asked of `endpoints` from `control`. Read-only. Source: etcd docs "etcdctl alarm list".
 */
export async function alarmList(ops: ClusterOps, control: string, endpoints: readonly string[]): Promise<AlarmView> {
  const r = await ops.etcdctl(control, endpoints, ['-w', 'json', 'alarm', 'list']);
  if (r.exitCode !== 0) throw new CommandFailedError(r.record, r.stderr);
  return parseAlarmList(r.stdout);
}

/**
 * `alarm disarm`, refused (PreconditionError) when a CORRUPT alarm is raised: etcdctl disarms every
 * alarm it lists, and a CORRUPT one must stay until a person has checked the members' hashes.
 * Already disarmed -> nothing is sent. Source: etcd docs "Maintenance: Space quota".
 */
export async function disarmNoSpace(ops: ClusterOps, control: string, endpoints: readonly string[]): Promise<{ disarmed: boolean }> {
  const before = await alarmList(ops, control, endpoints);
  if (before.corrupt.length) throw new PreconditionError(`CORRUPT alarm raised by ${before.corrupt.join(', ')}: not disarming (it would clear that one too)`);
  if (!before.noSpace.length) return { disarmed: false };
  await ops.runOk(control, ops.etcdctlArgv(endpoints, ['alarm', 'disarm']));
  return { disarmed: true };
}

/**
 * The member's backend quota in bytes as the running etcd reports it: `dbSizeQuota` of its status
 * (etcd 3.6), else the `etcd_server_quota_backend_bytes` gauge of its /metrics (3.4, 3.5), read
 * with curl on `node` with the inventory's client certificate. Throws when neither answers.
 * Source: etcd api/etcdserverpb/rpc.proto StatusResponse.dbSizeQuota; etcd server metrics.
 */
export async function memberQuotaBytes(ops: ClusterOps, node: string, clientURL: string, statusQuota: number | undefined): Promise<number> {
  if (statusQuota && statusQuota > 0) return statusQuota;
  const t = ops.inv.tls;
  const url = `${clientURL.replace(/\/+$/, '')}/metrics`;
  const r = await ops.run(node, shScript('curl -sS --max-time 5 --cacert "$1" --cert "$2" --key "$3" -- "$4" | grep "^etcd_server_quota_backend_bytes "',
    t.caFile, t.clientCertFile, t.clientKeyFile, url), { timeoutMs: 15_000 });
  const v = parseQuotaMetric(r.stdout);
  if (r.exitCode !== 0 || v === undefined) throw new Error(`${node}: cannot read the backend quota from ${url}: ${(r.stderr || r.stdout).trim().slice(0, 160)}`);
  return v;
}

/** The `etcd_server_quota_backend_bytes 1.6777216e+07` line of etcd's /metrics -> bytes, or undefined. */
export function parseQuotaMetric(text: string): number | undefined {
  const m = /^etcd_server_quota_backend_bytes\s+(\S+)$/m.exec(text);
  const v = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** The lease ID in `lease grant` output (`lease 5df4a241cc17db1f granted with TTL(60s)`), or undefined. */
export function parseLeaseGrant(text: string): string | undefined {
  return /lease ([0-9a-f]+) granted/.exec(text)?.[1];
}

/**
 * Checks that the cluster accepts writes again: puts a key under `etcd-runbooks/write-check/`
 * with a 60 s lease (it disappears by itself if the delete is lost), reads it back, deletes it.
 * Throws with etcd's error (e.g. "etcdserver: mvcc: database space exceeded"). Source: etcd docs
 * "Maintenance: Space quota" (a put succeeds once the alarm is disarmed).
 */
export async function checkWrites(ops: ClusterOps, control: string, endpoints: readonly string[], tag: string): Promise<{ key: string }> {
  const key = `etcd-runbooks/write-check/${tag}`;
  const lease = await ops.runOk(control, ops.etcdctlArgv(endpoints, ['lease', 'grant', '60']));
  const id = parseLeaseGrant(lease.stdout);
  if (!id) throw new Error(`etcdctl lease grant: unexpected output: ${lease.stdout.trim().slice(0, 120)}`);
  await ops.runOk(control, ops.etcdctlArgv(endpoints, ['put', `--lease=${id}`, key, tag]));
  const got = await ops.runOk(control, ops.etcdctlArgv(endpoints, ['get', '--print-value-only', key]));
  if (got.stdout.trim() !== tag) throw new Error(`write check: ${key} read back ${JSON.stringify(got.stdout.trim().slice(0, 40))}, not ${tag}`);
  await ops.runOk(control, ops.etcdctlArgv(endpoints, ['del', key]));
  return { key };
}
