import { PreconditionError } from '../errors';
import { clusterState } from '../etcd/reads';
import { backupDataDir, clearForceNewCluster, forceNewCluster, forceNewClusterFlag, waitReachable } from '../etcd/recovery';
import { dataDirState, moveDataDirAside } from '../node/dataDir';
import { runtimeOf } from '../runtime';
import { clusterActivity, type ActivityDeps } from '../wrap';
import { type NodeInput, checkTag, specOf } from './common';

/** The activities of quorum recovery (--force-new-cluster on a survivor) and finishing what a run left on a node. */
export function recoveryActivities(deps: ActivityDeps) {
  return {
    /** Copies the node's data dir to `<dataDir>.backup-<tag>`; keeps the original. */
    backupDataDir: clusterActivity(deps, (ops, input: NodeInput & { tag: string }) => backupDataDir(ops, input.node, input.tag)),

    /** Restarts the node's etcd with --force-new-cluster (drop-in) and waits for a 1-member cluster. */
    forceNewCluster: clusterActivity(deps, (ops, input: NodeInput) => forceNewCluster(ops, input.node)),

    /** Removes the --force-new-cluster drop-in, restarts, and checks the process no longer has the flag. */
    clearForceNewCluster: clusterActivity(deps, (ops, input: NodeInput) => clearForceNewCluster(ops, input.node)),

    /** Waits (heartbeating) until the node answers over SSH. */
    waitReachable: clusterActivity(deps, (ops, input: NodeInput & { timeoutSeconds: number }) => waitReachable(ops, input.node, input.timeoutSeconds * 1000)),

    /**
     * `etcd-runbooks cleanup`: finishes what a run left on a node that is not a member: stops and
     * disables etcd, removes a --force-new-cluster drop-in, moves a non-empty data dir aside. Refuses
     * while the node's member is in the cluster (that is remove-member's work).
     */
    cleanupNode: clusterActivity(deps, async (ops, input: NodeInput & { tag: string }) => {
      checkTag(input.tag);
      const spec = specOf(ops, input.node);
      const state = await clusterState(ops);
      const m = state.members.find((x) => x.peerURLs.includes(spec.peerURL) || (x.name !== '' && x.name === spec.name));
      if (m) throw new PreconditionError(`${input.node}: member ${m.name || m.id} is in the cluster; use remove-member, not cleanup`);
      const rt = runtimeOf(ops);
      const todo = await rt.retire(input.node);
      const flag = await forceNewClusterFlag(ops, input.node);
      if (flag.dropIn) await rt.setForceNewCluster(input.node, false, false);
      const hadData = (await dataDirState(ops, input.node)) === 'nonempty';
      const movedTo = hadData ? await moveDataDirAside(ops, input.node, input.tag) : undefined;
      return { service: `${await rt.state(input.node)}${todo ? `; ${todo}` : ''}`, removedDropIn: flag.dropIn, ...(movedTo ? { movedTo } : {}) };
    }),
  };
}
