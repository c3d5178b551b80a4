import type { MemberEvidence } from '../../domain/recovery';
import type { ClusterOps } from '../cluster';
import { PreconditionError, rethrowCancellation } from '../errors';
import { runtimeOf, type ForceNewClusterFlag } from '../runtime';
import { shScript } from '../ssh/quote';
import { requireFree } from '../node/disk';
import { parseEndpointStatus } from './parse';
import { ownView, type SingleMemberState } from './single';
import { dbFileBytes } from '../node/dataDir';
import { memberStartTimeoutMs, restoreTimeoutMs } from '../../domain/scale';

/** Evidence of one node's member progress (see MemberEvidence). Never changes anything. */
export async function memberEvidence(ops: ClusterOps, node: string): Promise<MemberEvidence> {
  const n = ops.node(node);
  let active: boolean;
  try {
    active = (await runtimeOf(ops).state(node)) === 'running';
  } catch (e) {
    rethrowCancellation(e);
    return { node, reachable: false, etcdActive: false, source: 'none', error: (e as Error).message.slice(0, 200) };
  }
  if (active) {
    const st = await ops.etcdctlProbe(node, [n.etcd.clientURL], ['-w', 'json', 'endpoint', 'status']);
    const [s] = st.exitCode === 0 ? parseEndpointStatus(st.stdout) : [];
    if (s) return { node, reachable: true, etcdActive: true, source: 'status', raftTerm: s.raftTerm, raftIndex: s.raftIndex, raftAppliedIndex: s.raftAppliedIndex, revision: s.revision, clusterId: s.clusterId };
  }
  const files = await ops.run(node, shScript('ls -1 "$1"/member/snap/ 2>/dev/null | grep "\\.snap$" | sort | tail -n 1', n.etcd.dataDir));
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/.exec(files.stdout.trim());
  if (m) return { node, reachable: true, etcdActive: active, source: 'files', raftTerm: parseInt(m[1], 16), raftIndex: parseInt(m[2], 16) };
  const wal = await ops.run(node, ['test', '-d', `${n.etcd.dataDir}/member/wal`]);
  return wal.exitCode === 0
    ? { node, reachable: true, etcdActive: active, source: 'files', raftTerm: 0, raftIndex: 0 }
    : { node, reachable: true, etcdActive: active, source: 'none' };
}

/** Copies the data dir to `<dataDir>.backup-<tag>` (cp -a), keeping the original. Idempotent. */
export async function backupDataDir(ops: ClusterOps, node: string, tag: string): Promise<{ copy?: string }> {
  const dir = ops.node(node).etcd.dataDir;
  const copy = `${dir}.backup-${tag}`;
  let size = 0;
  if ((await ops.run(node, ['test', '-e', copy])).exitCode !== 0) {
    const du = await ops.run(node, shScript('[ -d "$1" ] && du -sb -- "$1" | cut -f1 || echo 0', dir));
    size = Number(du.stdout.trim()) || 0;
    await requireFree(ops, node, dir, Math.ceil(size * 1.05), `a copy of ${dir}`);
  }
  // A copy writes as much as it reads: sized like a restore (domain/scale.ts).
  const r = await ops.runOk(node, shScript('if [ -e "$2" ]; then echo "$2"; elif [ -d "$1" ]; then rm -rf -- "$2.copying" && cp -a -- "$1" "$2.copying" && mv -- "$2.copying" "$2" && echo "$2"; fi', dir, copy), { timeoutMs: restoreTimeoutMs(size) });
  return r.stdout.trim() ? { copy } : {};
}

/**
 * Whether the member's configuration (systemd drop-in, or the static pod manifest) or the running
 * etcd carries --force-new-cluster (runtime/types.ts).
 */
export async function forceNewClusterFlag(ops: ClusterOps, node: string): Promise<ForceNewClusterFlag> {
  return runtimeOf(ops).forceNewClusterFlag(node);
}

/**
 * Restarts the node's etcd with --force-new-cluster (a systemd drop-in setting
 * ETCD_FORCE_NEW_CLUSTER=true, or the flag added to the static pod's command) and waits until it is a 1-member cluster leading itself with its
 * data. Idempotent: a member that already is a 1-member cluster is left as is.
 * Source: reference 001, 002; 004 (ETCD_FORCE_NEW_CLUSTER drop-in).
 */
export async function forceNewCluster(ops: ClusterOps, node: string): Promise<SingleMemberState> {
  const before = await ownView(ops, node).catch((e) => { rethrowCancellation(e); return undefined; });
  if (before && before.members === 1 && before.status.leader === before.memberId) return before;
  await runtimeOf(ops).setForceNewCluster(node, true, true);
  return ops.waitFor(`${node}: forced new cluster`, memberStartTimeoutMs(await dbFileBytes(ops, node)), 250, async () => {
    if ((await runtimeOf(ops).state(node)) === 'starting') return undefined;
    const v = await ownView(ops, node);
    return v && v.members === 1 && v.status.leader === v.memberId ? v : undefined;
  }, () => `${node} not yet a 1-member cluster`);
}

/**
 * Removes the --force-new-cluster drop-in, restarts etcd without it and checks that neither the
 * unit nor the running process carries the flag (leaving it is a classic outage: every restart
 * would discard the membership again). Source: reference 004 (remove the drop-in afterwards).
 */
export async function clearForceNewCluster(ops: ClusterOps, node: string): Promise<SingleMemberState & { flag: ForceNewClusterFlag }> {
  const flag = await forceNewClusterFlag(ops, node);
  if (flag.dropIn || flag.inProcess) {
    await runtimeOf(ops).setForceNewCluster(node, false, true);
  }
  // The process must be the restarted one: kubelet replaces a static pod some seconds after its
  // manifest changed, and until then the old process (with the flag) still serves.
  const v = await ops.waitFor(`${node}: serving without --force-new-cluster`, memberStartTimeoutMs(await dbFileBytes(ops, node)), 250, async () => {
    if ((await forceNewClusterFlag(ops, node)).inProcess) return undefined;
    if ((await runtimeOf(ops).state(node)) === 'starting') return undefined;
    const view = await ownView(ops, node);
    return view && view.status.leader === view.memberId ? view : undefined;
  }, () => `${node} not yet serving without the flag`);
  const after = await forceNewClusterFlag(ops, node);
  if (after.dropIn || after.inProcess) throw new PreconditionError(`${node}: etcd still carries --force-new-cluster (drop-in ${after.dropIn}, process ${after.inProcess})`);
  return { ...v, flag: after };
}

/** Waits until the node answers over SSH (a crashed node being repaired). Heartbeats while waiting. */
export async function waitReachable(ops: ClusterOps, node: string, timeoutMs: number): Promise<{ reachable: true }> {
  return ops.waitFor(`${node}: reachable`, timeoutMs, 2_000, async () => {
    try {
      await ops.runOk(node, ['true'], { timeoutMs: 5_000 });
      return { reachable: true as const };
    } catch (e) {
      rethrowCancellation(e);
      return undefined;
    }
  }, () => `${node} does not answer over SSH`);
}
