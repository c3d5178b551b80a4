import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';
import { verifySnapshotFile } from '../etcd/snapshot';
import { dataDirState } from './dataDir';
import { requireFree, WAL_RESERVE_BYTES } from './disk';
import { runtimeOf } from '../runtime';
import { snapshotToolOn } from '../etcd/version';
import { chooseRevisionBump } from '../../domain/revisionBump';
import { restoreTimeoutMs } from '../../domain/scale';

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

/** What a trial restore did: where, with which tool, and the revision bump it applied. */
export interface TrialRestore {
  dir: string;
  restored: boolean;
  /** e.g. `etcdutl 3.6.16`. */
  tool: string;
  /** Revisions added on top of the snapshot's (0: none); with --mark-compacted when > 0. */
  bump: number;
  bumpWhy: string;
}

/**
 * Trial restore, before anything is fenced: `snapshot restore` (etcdutl from 3.5 on, etcdctl on
 * 3.4: domain/etcdVersion.ts) into `<dataDir>.restoring-<tag>` with the node's own member name,
 * peer URL and a fresh cluster token, plus `--bump-revision N --mark-compacted` when a bump is chosen
 * (domain/revisionBump.ts; `largestSeen` is the largest raft index or revision any member reported),
 * owned by the etcd user, mode 0700, marked complete with the bump it used. The live data dir is
 * not touched, so a snapshot that cannot be restored, a tool that cannot bump, or a disk too small
 * stops the run while the cluster still serves. A failed restore leaves a partial dir (lab notes):
 * it is removed before each attempt. Idempotent: a complete scratch dir is kept. Source: etcd docs
 * "Disaster recovery: restoring a cluster"; reference 001, 002, 003 (chown etcd); etcd issue 16028.
 */
export async function trialRestore(ops: ClusterOps, node: string, snapshotPath: string, sizeBytes: number, token: string, tag: string,
  revision: { requested?: number; largestSeen?: number } = {}): Promise<TrialRestore> {
  const { dataDir, memberName, peerURL } = ops.node(node).etcd;
  const tmp = restoringDir(dataDir, tag);
  const { tool, version, canBump } = await snapshotToolOn(ops, node);
  const done = await ops.run(node, ['cat', '--', `${tmp}/${COMPLETE}`]);
  if (done.exitCode === 0) {
    const prior = /^bump (\d+) (.*)$/m.exec(done.stdout);
    return { dir: tmp, restored: false, tool: `${tool} ${version}`, bump: prior ? Number(prior[1]) : 0, bumpWhy: prior?.[2] ?? 'restored by an earlier attempt' };
  }
  let chosen;
  try {
    chosen = chooseRevisionBump({ node, tool: `${tool} ${version}`, canBump, requested: revision.requested, largestSeen: revision.largestSeen ?? 0, backsKubernetes: ops.inv.backsKubernetes });
  } catch (e) {
    throw new PreconditionError((e as Error).message);
  }
  const { bump, why } = chosen;
  await ops.runOk(node, ['rm', '-rf', '--', tmp]);
  await requireFree(ops, node, tmp, Math.ceil(sizeBytes * 1.1) + WAL_RESERVE_BYTES, `restoring ${snapshotPath}`);
  await ops.runOk(node, [tool, 'snapshot', 'restore', snapshotPath,
    `--name=${memberName}`, `--initial-cluster=${memberName}=${peerURL}`, `--initial-cluster-token=${token}`,
    `--initial-advertise-peer-urls=${peerURL}`, `--data-dir=${tmp}`,
    ...(bump > 0 ? [`--bump-revision=${bump}`, '--mark-compacted'] : [])], { timeoutMs: restoreTimeoutMs(sizeBytes) });
  const user = runtimeOf(ops).dataOwner;
  await ops.runOk(node, shScript('chown -R "$2:$2" "$1" && chmod 0700 "$1" && printf "bump %s %s\\n" "$4" "$5" > "$1/$3"', tmp, user, COMPLETE, String(bump), why));
  return { dir: tmp, restored: true, tool: `${tool} ${version}`, bump, bumpWhy: why };
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
  if ((await runtimeOf(ops).state(node)) === 'running') throw new PreconditionError(`${node}: etcd is running; fence it before restoring`);
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
