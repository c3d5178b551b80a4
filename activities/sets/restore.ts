import { PreconditionError } from '../errors';
import { ensurePeerURL, startRestoredMember } from '../etcd/single';
import { copySnapshot, restoreDataDir, installRestored, restoringDir, trialRestore } from '../node/restore';
import { moveDataDirAside } from '../node/dataDir';
import { runtimeOf } from '../runtime';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';
import { shScript } from '../ssh/quote';
import { type NodeInput, checkTag } from './common';

/** The activities of a restore's steps and their undo: copy, trial restore, fence, restore, install, start, unfence. */
export function restoreActivities(deps: ActivityDeps) {
  return {
    /** Streams a snapshot to another node's backup dir (bytes and rate in heartbeats), verified there; free disk checked first. */
    copySnapshot: clusterActivity(deps, (ops, input: ClusterInput & { from: string; path: string; to: string }) => copySnapshot(ops, input.from, input.path, input.to)),

    /** Trial restore into `<dataDir>.restoring-<tag>` before anything is fenced (disk checked). */
    trialRestore: clusterActivity(deps, (ops, input: NodeInput & { path: string; sizeBytes: number; token: string; tag: string; bumpRevision?: number; largestSeen?: number }) => {
      checkTag(input.tag);
      return trialRestore(ops, input.node, input.path, input.sizeBytes, input.token, input.tag, { requested: input.bumpRevision, largestSeen: input.largestSeen });
    }),

    /**
     * Fences etcd on the node so nothing starts it during a restore or recovery: stopped, disabled
     * and runtime-masked (systemd), or its manifest moved out of the manifests dir (kubeadm).
     * Source: reference 003 (etcd must not come up before the restore); 000 §8.4; 001.
     */
    fenceMember: clusterActivity(deps, async (ops, input: NodeInput) => {
      const rt = runtimeOf(ops);
      await rt.fence(input.node);
      return { service: await rt.state(input.node), fence: rt.fenced };
    }),

    /** Restores the snapshot into the node's data dir (via a temporary dir) with a fresh cluster token. */
    restoreDataDir: clusterActivity(deps, (ops, input: NodeInput & { path: string; token: string; tag: string }) => restoreDataDir(ops, input.node, input.path, input.token, input.tag)),

    /** Renames the trial restore into the data dir (etcd fenced, data dir moved aside). */
    installRestored: clusterActivity(deps, (ops, input: NodeInput & { tag: string }) => {
      checkTag(input.tag);
      return installRestored(ops, input.node, input.tag);
    }),

    /** Starts the restored member as a new 1-member cluster and waits until it serves. */
    startRestoredMember: clusterActivity(deps, (ops, input: NodeInput & { token: string }) => startRestoredMember(ops, input.node, input.token)),

    /** Makes the member advertise the inventory's peer URL (reference 002: restored members may advertise localhost). */
    ensurePeerURL: clusterActivity(deps, (ops, input: NodeInput) => ensurePeerURL(ops, input.node)),

    /**
     * Undo of a restore or recovery before its point of no return, per node: a restored data dir
     * put in place by this run goes back to its scratch name, the data dir moved aside by this run
     * comes back, and etcd is unmasked and, if it ran before (`start`), started again.
     */
    unfence: clusterActivity(deps, async (ops, input: NodeInput & { tag: string; start: boolean }) => {
      checkTag(input.tag);
      const dir = ops.node(input.node).etcd.dataDir;
      const restoredHere = (await ops.run(input.node, ['test', '-f', `${dir}/.etcd-runbooks-restored-${input.tag}`])).exitCode === 0;
      const rt = runtimeOf(ops);
      const active = (await rt.state(input.node)) === 'running';
      if (active && input.start && !restoredHere) return { restarted: false, movedBack: false };
      if (active) await rt.stop(input.node);
      const r = await ops.runOk(input.node, shScript([
        'moved=no',
        'if [ -f "$1/.etcd-runbooks-restored-$4" ]; then mv -T -- "$1" "$3" && rm -f "$3/.etcd-runbooks-restored-$4"; fi',
        'if [ -d "$2" ]; then if [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; then rmdir "$1"; fi; [ -e "$1" ] || { mv -T -- "$2" "$1" && moved=yes; }; fi',
        'echo $moved',
      ].join('\n'), dir, `${dir}.aside-${input.tag}`, restoringDir(dir, input.tag), input.tag));
      if (input.start) await rt.start(input.node);
      else await rt.release(input.node);
      return { restarted: input.start, movedBack: r.stdout.trim() === 'yes' };
    }),

    /** Compensation: moves the node's data dir aside to `<dataDir>.aside-<tag>`; never deletes. */
    moveDataDirAside: clusterActivity(deps, async (ops, input: NodeInput & { tag: string }) => {
      if (!/^[A-Za-z0-9._-]+$/.test(input.tag)) throw new PreconditionError(`bad tag ${JSON.stringify(input.tag)}`);
      if ((await runtimeOf(ops).state(input.node)) === 'running') throw new PreconditionError(`${input.node}: etcd is running; stop it before moving its data dir`);
      return { movedTo: await moveDataDirAside(ops, input.node, input.tag) };
    }),
  };
}
