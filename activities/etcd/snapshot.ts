import type { ClusterOps } from '../cluster';
import { pruneBackups } from '../node/retention';
import { readTimeoutMs } from '../../domain/scale';
import { servedRevision } from '../../domain/snapshotRevision';
import { PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';
import { memberStatuses } from './reads';
import type { InventoryNode } from '../../inventory/schema';
import { parseSnapshotStatus } from './parse';
import { requireFree } from '../node/disk';
import { snapshotToolOn } from './version';
import { measureAt, readBackupMeta, writeBackupMeta } from './backupMeta';
import { backupMembers, LIST_BACKUPS_SH } from '../node/backupFiles';

/** A snapshot file on a node, verified. */
export interface SnapshotInfo {
  node: string;
  member: string;
  path: string;
  sizeBytes: number;
  /** SHA-256 trailer of the file (hex), checked against the file's content. */
  sha256: string;
  revision: number;
  totalKeys: number;
}

/**
 * Checks a snapshot made by `etcdctl snapshot save`: its last 32 bytes are the SHA-256 of the rest
 * (lab notes; `snapshot status` alone does not detect corruption). Exit 0 and the hash on success.
 * `snapshot status` then runs with the node's snapshot tool (etcdutl from 3.5 on, etcdctl on 3.4).
 */
const VERIFY_SCRIPT = [
  'f=$1; size=$(stat -c %s "$f") || exit 3',
  '[ "$size" -gt 32 ] || { echo "snapshot $f is too short ($size bytes)" >&2; exit 4; }',
  'want=$(tail -c 32 "$f" | od -An -v -tx1 | tr -d " \\n")',
  'got=$(head -c -32 "$f" | sha256sum | cut -d" " -f1)',
  '[ "$want" = "$got" ] || { echo "snapshot $f fails its SHA-256 check (its content does not match its trailer)" >&2; exit 5; }',
  'echo "$size $got"',
].join('\n');

export async function verifySnapshotFile(ops: ClusterOps, node: string, path: string): Promise<Omit<SnapshotInfo, 'member'>> {
  // Hashing reads the whole file: the timeout follows its size (domain/scale.ts).
  const bytes = Number((await ops.run(node, ['stat', '-c', '%s', '--', path])).stdout.trim()) || 0;
  // The SHA-256 check and `snapshot status` both only read the file: at once. The hash is judged first.
  const check = ops.runOk(node, shScript(VERIFY_SCRIPT, path), { timeoutMs: readTimeoutMs(bytes) });
  const status = snapshotToolOn(ops, node).then(({ tool }) => ops.runOk(node, [tool, '-w', 'json', 'snapshot', 'status', path], { timeoutMs: readTimeoutMs(bytes) }));
  const [checked, read] = await Promise.allSettled([check, status]);
  if (checked.status === 'rejected') throw checked.reason;
  if (read.status === 'rejected') throw read.reason;
  const [size, sha] = checked.value.stdout.trim().split(' ');
  const s = parseSnapshotStatus(read.value.stdout);
  return { node, path, sizeBytes: Number(size), sha256: sha, revision: s.revision, totalKeys: s.totalKey };
}

/** The leader's member name, its database size (bytes) and the inventory node it runs on. */
interface LeaderAt { name: string; dbSize: number; node: InventoryNode }

/**
 * Finds the leader by the member list and each member's status (no health reads: the snapshot
 * save itself fails on a member that does not serve). Throws if the statuses agree on no leader or
 * it is not in the inventory.
 */
async function leaderNode(ops: ClusterOps): Promise<LeaderAt> {
  const { view, statuses, leader: id } = await memberStatuses(ops);
  const leader = view.members.find((m) => m.id === id);
  if (!leader) throw new Error(`cluster ${ops.inv.cluster} has no leader; cannot take a snapshot`);
  const node = ops.inv.nodes.find((n) => n.etcd.memberName === leader.name);
  if (!node) throw new PreconditionError(`leader ${leader.name} is not described in the inventory`);
  return { name: leader.name, dbSize: statuses.find((s) => s.memberId === id)?.dbSize ?? 0, node };
}

/**
 * `snapshot save` from the leader into the inventory's backup dir on the leader's node, as
 * `<cluster>-<label>.db`, verified before it counts. Idempotent: an existing verified file with that
 * name on the leader's node is returned as is; a file that fails verification is replaced.
 * Source: reference 000 §4 (snapshot from the leader; check status after), etcd docs "Disaster recovery".
 */
export async function snapshotOnLeader(ops: ClusterOps, label: string, at?: LeaderAt): Promise<SnapshotInfo> {
  if (!/^[A-Za-z0-9._-]+$/.test(label)) throw new PreconditionError(`bad snapshot label ${JSON.stringify(label)}`);
  const leader = at ?? (await leaderNode(ops));
  const { node } = leader;
  const path = `${ops.inv.backupDir}/${ops.inv.cluster}-${label}.db`;
  const exists = await ops.run(node.name, ['test', '-f', path]);
  if (exists.exitCode === 0) {
    try {
      return { member: leader.name, ...(await verifySnapshotFile(ops, node.name, path)) };
    } catch {
      // a partial or corrupt file from an interrupted attempt: take it again
    }
  }
  await requireFree(ops, node.name, ops.inv.backupDir, Math.ceil(leader.dbSize * 1.05), `a snapshot of ${leader.name}`);
  await ops.runOk(node.name, ['install', '-d', '-m', '0700', ops.inv.backupDir]);
  const tmp = `${path}.saving`;
  try {
    await ops.runOk(node.name, ops.etcdctlArgv([node.etcd.clientURL], ['snapshot', 'save', tmp], null), { timeoutMs: readTimeoutMs(leader.dbSize) });
  } catch (e) {
    // A partial file (a full disk, a timeout) must not keep the backup dir full.
    await ops.run(node.name, ['rm', '-f', '--', tmp]).catch(() => undefined);
    throw e;
  }
  const info = await verifySnapshotFile(ops, node.name, tmp);
  await ops.runOk(node.name, ['mv', '-f', '--', tmp, path]);
  return { ...info, member: leader.name, path };
}

/** A backup: the verified snapshot, its keys and KV hash at its revision (also in `<path>.meta.json`), and the backups retention removed. */
export interface BackupInfo extends SnapshotInfo { keys: number; hashKV: string; pruned: string[] }

/**
 * Backup: a verified snapshot from the leader, named `<cluster>-<member>-rev<revision>-<stamp>.db`
 * in the backup dir on the leader's node, then retention: only the newest `keep` backups of this
 * cluster in that dir are kept. Idempotent per `stamp`: a verified file for it is returned as is.
 * Source: reference 000 §4 (backup on the leader, named by node and time).
 */
export async function backupOnLeader(ops: ClusterOps, stamp: string, keep: number): Promise<BackupInfo> {
  if (!/^[0-9]{8}T[0-9]{6}([0-9]{3})?Z$/.test(stamp)) throw new PreconditionError(`bad backup stamp ${JSON.stringify(stamp)}`);
  const { backupDir, cluster } = ops.inv;
  const leader = await leaderNode(ops);
  const { node } = leader;
  // Any member's file of this stamp: a retry after the leader moved finds the first attempt's backup.
  const found = await ops.run(node.name, shScript(`stamp=$1; shift; (${LIST_BACKUPS_SH}) | grep -F -- "-$stamp.db" | head -n 1`, stamp, backupDir, cluster, ...backupMembers(ops.inv)));
  let info: SnapshotInfo | undefined;
  if (found.stdout.trim()) {
    try {
      info = { member: leader.name, ...(await verifySnapshotFile(ops, node.name, found.stdout.trim())) };
    } catch {
      info = undefined;
    }
  }
  if (!info) {
    const snap = await snapshotOnLeader(ops, `backup-${stamp}`, leader);
    const path = `${backupDir}/${cluster}-${snap.member}-rev${snap.revision}-${stamp}.db`;
    await ops.runOk(snap.node, ['mv', '-f', '--', snap.path, path]);
    info = { ...snap, path };
  }
  let meta = await readBackupMeta(ops, info.node, info.path);
  if (!meta || meta.revision !== info.revision || meta.sha256 !== info.sha256) {
    meta = { cluster, member: info.member, revision: info.revision, ...(await measureAt(ops, info.node, node.etcd.clientURL, servedRevision(info.revision))), sha256: info.sha256, sizeBytes: info.sizeBytes, takenAt: new Date().toISOString() };
    await writeBackupMeta(ops, info.node, info.path, meta);
  }
  return { ...info, keys: meta.keys, hashKV: meta.hashKV, pruned: await pruneBackups(ops, info.node, backupDir, cluster, keep) };
}
