import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';
import { verifySnapshotFile } from '../etcd/snapshot';
import { dataDirState } from './dataDir';
import { serviceState } from './service';

/**
 * Copies a snapshot file from one node to another through the worker (two SSH channels, streamed),
 * then verifies it on the target. Idempotent: a verified copy already there is kept.
 */
export async function copySnapshot(ops: ClusterOps, from: string, path: string, to: string) {
  if (from === to) return verifySnapshotFile(ops, to, path);
  const target = `${ops.inv.backupDir}/${path.split('/').pop()}`;
  try {
    return await verifySnapshotFile(ops, to, target);
  } catch {
    // not there yet, or a partial copy: copy it
  }
  const src = await ops.runOk(from, ['base64', '-w0', '--', path], { timeoutMs: 30 * 60_000 });
  await ops.runOk(to, ['install', '-d', '-m', '0700', ops.inv.backupDir]);
  await ops.runOk(to, shScript('base64 -d > "$1.copying" && mv -f "$1.copying" "$1"', target), { stdin: src.stdout, timeoutMs: 30 * 60_000 });
  return verifySnapshotFile(ops, to, target);
}

/**
 * `etcdctl snapshot restore` into `<dataDir>.restoring-<tag>` with the node's own member name, peer
 * URL and a fresh cluster token, then renames it into place, owned by the etcd user, mode 0700.
 * A restore that fails leaves a partial dir behind (lab notes), so the temporary dir is removed
 * before each attempt; the data dir itself is only ever created by the rename. Idempotent: a data
 * dir already in place with a member/ dir from this restore (marker file) is kept.
 * Source: etcd docs "Disaster recovery: restoring a cluster"; reference 001, 002, 003 (chown etcd).
 */
export async function restoreDataDir(ops: ClusterOps, node: string, snapshotPath: string, token: string, tag: string): Promise<{ dataDir: string; restored: boolean }> {
  const n = ops.node(node);
  const { dataDir, memberName, peerURL } = n.etcd;
  if ((await serviceState(ops, node)) === 'active') throw new PreconditionError(`${node}: etcd is running; fence it before restoring`);
  const marker = `${dataDir}/.etcd-runbooks-restored-${tag}`;
  if ((await ops.run(node, ['test', '-f', marker])).exitCode === 0) return { dataDir, restored: false };
  if ((await dataDirState(ops, node)) === 'nonempty') throw new PreconditionError(`${node}: data dir ${dataDir} is not empty; move it aside before restoring`);
  const tmp = `${dataDir}.restoring-${tag}`;
  await ops.runOk(node, ['rm', '-rf', '--', tmp]);
  await ops.runOk(node, ['env', 'ETCDCTL_API=3', 'etcdctl', 'snapshot', 'restore', snapshotPath,
    `--name=${memberName}`, `--initial-cluster=${memberName}=${peerURL}`, `--initial-cluster-token=${token}`,
    `--initial-advertise-peer-urls=${peerURL}`, `--data-dir=${tmp}`], { timeoutMs: 30 * 60_000 });
  const user = ops.inv.systemd.etcdUser;
  await ops.runOk(node, shScript('rmdir "$2" 2>/dev/null; mv -T -- "$1" "$2" && touch "$3" && chown -R "$4:$4" "$2" && chmod 0700 "$2"', tmp, dataDir, marker, user));
  return { dataDir, restored: true };
}
