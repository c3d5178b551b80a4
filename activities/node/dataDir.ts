import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';

export type DataDirState = 'absent' | 'empty' | 'nonempty';

/** Whether a member's data dir exists and holds anything. A new member must start with it empty. */
export async function dataDirState(ops: ClusterOps, node: string): Promise<DataDirState> {
  const dir = ops.node(node).etcd.dataDir;
  const r = await ops.runOk(node, shScript('if [ ! -d "$1" ]; then echo absent; elif [ -n "$(ls -A "$1")" ]; then echo nonempty; else echo empty; fi', dir));
  return r.stdout.trim() as DataDirState;
}

/**
 * Moves a data dir aside to `<dataDir>.aside-<tag>` (never deletes it). Idempotent: if the target
 * already exists and the data dir is empty, or there is nothing to move, it does nothing; if both
 * hold data it fails (never overwrite, never report a move that did not happen). The member must be stopped.
 * Returns the path the data now lives at, or undefined when there was nothing to move.
 */
export async function moveDataDirAside(ops: ClusterOps, node: string, tag: string): Promise<string | undefined> {
  const dir = ops.node(node).etcd.dataDir;
  const target = `${dir}.aside-${tag}`;
  const r = await ops.runOk(node, shScript(
    'full=no; [ -d "$1" ] && [ -n "$(ls -A "$1")" ] && full=yes; if [ -e "$2" ]; then [ $full = no ] || { echo "both $1 and $2 hold data" >&2; exit 3; }; echo "$2"; elif [ $full = yes ]; then mv -- "$1" "$2" && echo "$2"; else echo; fi',
    dir, target,
  ));
  return r.stdout.trim() || undefined;
}

/**
 * Size in bytes of the member's database file (`<dataDir>/member/snap/db`), 0 when there is none.
 * Sizes the waits for the member to start (domain/scale.ts).
 */
export async function dbFileBytes(ops: ClusterOps, node: string): Promise<number> {
  const r = await ops.run(node, ['stat', '-c', '%s', '--', `${ops.node(node).etcd.dataDir}/member/snap/db`]);
  const n = Number(r.stdout.trim());
  return r.exitCode === 0 && Number.isFinite(n) ? n : 0;
}

/** True when every path exists as a regular file on the node. */
export async function filesPresent(ops: ClusterOps, node: string, paths: string[]): Promise<boolean> {
  const r = await ops.run(node, shScript('for f; do [ -f "$f" ] || { echo "missing $f"; exit 1; }; done', ...paths));
  return r.exitCode === 0;
}
