import type { ClusterOps } from '../cluster';
import { CommandFailedError, PreconditionError, rethrowCancellation } from '../errors';
import { shScript } from '../ssh/quote';
import { readBackupMeta } from '../etcd/backupMeta';
import { parseEndpointStatus, parseHashKV } from '../etcd/parse';
import { verifySnapshotFile } from '../etcd/snapshot';
import { snapshotToolOn } from '../etcd/version';
import { restoreTimeoutMs } from '../../domain/scale';
import { servedRevision } from '../../domain/snapshotRevision';
import { backupMembers, LIST_BACKUPS_SH } from './backupFiles';

/** Loopback ports of the throw-away member on the backup host (client, peer). */
export const DRILL_CLIENT_PORT = 23790;
export const DRILL_PEER_PORT = 23800;

/** What a restore drill found: the copy, what it should hold (its `.meta.json`), what the restored member holds, and the verdict. */
export interface DrillResult {
  host: string;
  backup: string;
  sizeBytes: number;
  /** When the backup was taken (its sidecar), ISO-8601. */
  takenAt?: string;
  expected?: { revision: number; keys: number; hashKV: string };
  found?: { revision: number; keys: number; hashKV: string };
  passed: boolean;
  /** Why it failed, one line each; empty when passed. */
  problems: string[];
  restoreMs: number;
  totalMs: number;
}

const SCRATCH = '/var/tmp/etcd-runbooks-drill';

/** One line saying why a step failed: a command's last stderr line, else the error's first line. */
function why(e: unknown): string {
  const line = e instanceof CommandFailedError ? e.stderr.trim().split('\n').pop() : undefined;
  return (line || (e as Error).message.split('\n')[0]).slice(0, 400);
}
const UNIT = 'etcd-runbooks-drill';

/** Stops the throw-away member and removes its scratch dir (also what a crashed earlier attempt left). */
async function teardown(ops: ClusterOps, host: string): Promise<void> {
  await ops.run(host, shScript('systemctl stop "$1" 2>/dev/null; systemctl reset-failed "$1" 2>/dev/null; rm -rf -- "$2"; true', UNIT, SCRATCH));
}

/**
 * Restore drill: proves the newest off-node copy of the cluster's backups restores. On the
 * inventory's backup host (never a member of the cluster): checks the copy's SHA-256 trailer,
 * restores it (`etcdutl snapshot restore`, etcdctl on 3.4) into a scratch dir, starts a throw-away
 * single member on loopback (ports DRILL_CLIENT_PORT/DRILL_PEER_PORT, no TLS, a transient systemd
 * unit), and compares its revision, its key count and KV hash at the backup's revision with what the
 * backup held when it was taken (`<copy>.meta.json`). Then stops it and removes the scratch dir,
 * also after a failure. A copy that fails any check gives `passed: false` and the reasons; the
 * caller alerts. Source: etcd docs "Disaster recovery" (snapshot restore), reference 002.
 */
export async function drillNewestCopy(ops: ClusterOps): Promise<DrillResult> {
  const started = Date.now();
  const bh = ops.inv.backupHost;
  if (!bh) throw new PreconditionError('no backupHost in the inventory: restore drills run on the backup host, on its copies');
  const host = bh.name;
  const newest = (await ops.runOk(host, shScript(`${LIST_BACKUPS_SH} | head -n 1`, bh.dir, ops.inv.cluster, ...backupMembers(ops.inv)))).stdout.trim();
  if (!newest) throw new PreconditionError(`${host}: no copy of cluster ${ops.inv.cluster} in ${bh.dir} to drill`);
  const problems: string[] = [];
  const meta = await readBackupMeta(ops, host, newest);
  const expected = meta ? { revision: meta.revision, keys: meta.keys, hashKV: meta.hashKV } : undefined;
  const sizeBytes = Number((await ops.run(host, ['stat', '-c', '%s', '--', newest])).stdout.trim()) || 0;
  const base = { host, backup: newest, sizeBytes, ...(meta ? { takenAt: meta.takenAt } : {}), ...(expected ? { expected } : {}) };
  if (!meta) problems.push(`${newest}.meta.json is missing: nothing to check the restore against`);
  try {
    await verifySnapshotFile(ops, host, newest);
  } catch (e) {
    rethrowCancellation(e);
    return { ...base, passed: false, problems: [...problems, `integrity: ${why(e)}`], restoreMs: 0, totalMs: Date.now() - started };
  }
  const client = `http://127.0.0.1:${DRILL_CLIENT_PORT}`;
  const peer = `http://127.0.0.1:${DRILL_PEER_PORT}`;
  const ctl = (args: string[]) => ['etcdctl', `--endpoints=${client}`, '--dial-timeout=2s', '--command-timeout=30s', ...args];
  await teardown(ops, host);
  const restoreStarted = Date.now();
  try {
    const { tool } = await snapshotToolOn(ops, host);
    await ops.runOk(host, [tool, 'snapshot', 'restore', newest, `--data-dir=${SCRATCH}/data`, '--name=drill', `--initial-cluster=drill=${peer}`, `--initial-advertise-peer-urls=${peer}`], { timeoutMs: restoreTimeoutMs(sizeBytes) });
    await ops.runOk(host, shScript('systemd-run --quiet --unit="$1" --property=Type=notify --property=TimeoutStartSec=infinity "$(command -v etcd)" --name=drill --data-dir="$2/data" --listen-client-urls="$3" --advertise-client-urls="$3" --listen-peer-urls="$4" --initial-advertise-peer-urls="$4" --initial-cluster="drill=$4"',
      UNIT, SCRATCH, client, peer), { timeoutMs: restoreTimeoutMs(sizeBytes) });
    const restoreMs = Date.now() - restoreStarted;
    const st = parseEndpointStatus((await ops.runOk(host, ctl(['-w', 'json', 'endpoint', 'status']))).stdout)[0];
    const rev = expected ? servedRevision(expected.revision) : st.revision;
    const h = parseHashKV((await ops.runOk(host, ctl(['-w', 'json', 'endpoint', 'hashkv', `--rev=${rev}`]))).stdout)[0];
    // No `count` in the answer: no keys (proto3 leaves zero out).
    const count = /"count":(\d+)/.exec((await ops.runOk(host, ctl(['-w', 'json', 'get', '', '--prefix', '--limit=1', `--rev=${rev}`]))).stdout);
    const found = { revision: st.revision, keys: count ? Number(count[1]) : 0, hashKV: h.hash };
    if (expected) {
      if (found.revision !== rev) problems.push(`revision ${found.revision}, the backup held ${rev}`);
      if (found.keys !== expected.keys) problems.push(`${found.keys} keys at revision ${rev}, the backup held ${expected.keys}`);
      if (found.hashKV !== expected.hashKV) problems.push(`KV hash ${found.hashKV} at revision ${rev}, the backup's was ${expected.hashKV}`);
    }
    return { ...base, found, passed: problems.length === 0, problems, restoreMs, totalMs: Date.now() - started };
  } catch (e) {
    rethrowCancellation(e);
    return { ...base, passed: false, problems: [...problems, `restore: ${why(e)}`], restoreMs: Date.now() - restoreStarted, totalMs: Date.now() - started };
  } finally {
    await teardown(ops, host);
  }
}
