import { LONG_COMMAND_MS, type ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';
import { verifySnapshotFile } from '../etcd/snapshot';
import { dataDirState } from './dataDir';
import { requireFree, WAL_RESERVE_BYTES } from './disk';
import { serviceState } from './service';

/**
 * Copies a snapshot file from one node into another node's backup dir as a stream (two SSH
 * channels piped through the worker, never held in memory; bytes, rate and ETA in heartbeats),
 * into `<target>.copying`, checks the copy's size and SHA-256 trailer against the source's, then
 * renames it into place. Free disk on the target is checked first. Idempotent: a verified copy
 * with the source's hash already there is kept. Source: reference 000 §8.4 (the snapshot must be
 * on the node that restores); etcd docs "Disaster recovery".
 */
export async function copySnapshot(ops: ClusterOps, from: string, path: string, to: string) {
  const source = await verifySnapshotFile(ops, from, path);
  if (from === to) return { ...source, copiedBytes: 0 };
  const target = `${ops.inv.backupDir}/${path.split('/').pop()}`;
  if ((await ops.run(to, ['test', '-f', target])).exitCode === 0) {
    const there = await verifySnapshotFile(ops, to, target).catch(() => undefined);
    if (there && there.sha256 === source.sha256 && there.sizeBytes === source.sizeBytes) return { ...there, copiedBytes: 0 };
  }
  await requireFree(ops, to, ops.inv.backupDir, Math.ceil(source.sizeBytes * 1.05), `the copy of ${path}`);
  await ops.runOk(to, ['install', '-d', '-m', '0700', ops.inv.backupDir]);
  const moved = await ops.pipe({ node: from, argv: ['cat', '--', path] }, { node: to, argv: shScript('umask 077; cat > "$1.copying"', target) }, source.sizeBytes);
  const copy = await verifySnapshotFile(ops, to, `${target}.copying`);
  if (copy.sha256 !== source.sha256 || copy.sizeBytes !== source.sizeBytes) {
    throw new Error(`${to}: the copy of ${from}:${path} differs from its source (${copy.sizeBytes} of ${source.sizeBytes} bytes)`);
  }
  await ops.runOk(to, ['mv', '-f', '--', `${target}.copying`, target]);
  return { ...copy, path: target, copiedBytes: moved.bytes, copySeconds: moved.seconds };
}

/** The scratch dir a restore is made in beside the data dir (same filesystem, so it renames into place). */
export function restoringDir(dataDir: string, tag: string): string {
  return `${dataDir}.restoring-${tag}`;
}

const COMPLETE = '.etcd-runbooks-restore-complete';

/**
 * Trial restore, before anything is fenced: `etcdctl snapshot restore` into
 * `<dataDir>.restoring-<tag>` with the node's own member name, peer URL and a fresh cluster token,
 * owned by the etcd user, mode 0700, marked complete. The live data dir is not touched, so a
 * snapshot that cannot be restored, or a disk too small for it, stops the run while the cluster
 * still serves. A failed restore leaves a partial dir (lab notes): it is removed before each
 * attempt. Idempotent: a complete scratch dir is kept. Source: etcd docs "Disaster recovery:
 * restoring a cluster"; reference 001, 002, 003 (chown etcd).
 */
export async function trialRestore(ops: ClusterOps, node: string, snapshotPath: string, sizeBytes: number, token: string, tag: string): Promise<{ dir: string; restored: boolean }> {
  const { dataDir, memberName, peerURL } = ops.node(node).etcd;
  const tmp = restoringDir(dataDir, tag);
  if ((await ops.run(node, ['test', '-f', `${tmp}/${COMPLETE}`])).exitCode === 0) return { dir: tmp, restored: false };
  await ops.runOk(node, ['rm', '-rf', '--', tmp]);
  await requireFree(ops, node, tmp, Math.ceil(sizeBytes * 1.1) + WAL_RESERVE_BYTES, `restoring ${snapshotPath}`);
  await ops.runOk(node, ['env', 'ETCDCTL_API=3', 'etcdctl', 'snapshot', 'restore', snapshotPath,
    `--name=${memberName}`, `--initial-cluster=${memberName}=${peerURL}`, `--initial-cluster-token=${token}`,
    `--initial-advertise-peer-urls=${peerURL}`, `--data-dir=${tmp}`], { timeoutMs: LONG_COMMAND_MS });
  const user = ops.inv.systemd.etcdUser;
  await ops.runOk(node, shScript('chown -R "$2:$2" "$1" && chmod 0700 "$1" && touch "$1/$3"', tmp, user, COMPLETE));
  return { dir: tmp, restored: true };
}

/**
 * Puts the trial-restored dir in place of the (fenced, moved-aside) data dir: a rename on one
 * filesystem. Refuses while etcd runs or the data dir holds data. Idempotent: a data dir carrying
 * this tag's restore marker is done.
 */
export async function installRestored(ops: ClusterOps, node: string, tag: string): Promise<{ dataDir: string; installed: boolean }> {
  const { dataDir } = ops.node(node).etcd;
  const marker = `${dataDir}/.etcd-runbooks-restored-${tag}`;
  if ((await ops.run(node, ['test', '-f', marker])).exitCode === 0) return { dataDir, installed: false };
  if ((await serviceState(ops, node)) === 'active') throw new PreconditionError(`${node}: etcd is running; fence it before restoring`);
  if ((await dataDirState(ops, node)) === 'nonempty') throw new PreconditionError(`${node}: data dir ${dataDir} is not empty; move it aside before restoring`);
  const tmp = restoringDir(dataDir, tag);
  if ((await ops.run(node, ['test', '-f', `${tmp}/${COMPLETE}`])).exitCode !== 0) throw new PreconditionError(`${node}: no complete trial restore at ${tmp}`);
  await ops.runOk(node, shScript('rmdir "$2" 2>/dev/null; mv -T -- "$1" "$2" && touch "$3"', tmp, dataDir, marker));
  return { dataDir, installed: true };
}

/**
 * The restore of 0.1 (restore into a scratch dir and rename, with etcd already fenced). Kept for
 * runs started before 0.2 (workflows/v1/restoreCluster.ts); new runs use trialRestore + installRestored.
 */
export async function restoreDataDir(ops: ClusterOps, node: string, snapshotPath: string, token: string, tag: string): Promise<{ dataDir: string; restored: boolean }> {
  const { dataDir } = ops.node(node).etcd;
  const marker = `${dataDir}/.etcd-runbooks-restored-${tag}`;
  if ((await ops.run(node, ['test', '-f', marker])).exitCode === 0) return { dataDir, restored: false };
  const size = Number((await ops.runOk(node, ['stat', '-c', '%s', '--', snapshotPath])).stdout.trim());
  await trialRestore(ops, node, snapshotPath, size, token, tag);
  await installRestored(ops, node, tag);
  return { dataDir, restored: true };
}
