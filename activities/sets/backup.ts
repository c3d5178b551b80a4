import { CommandFailedError } from '../errors';
import { backupOnLeader, snapshotOnLeader, verifySnapshotFile } from '../etcd/snapshot';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';
import { copyBackupOffNode } from '../node/offNode';
import { drillNewestCopy } from '../node/drill';
import { type NodeInput } from './common';

/** The activities of snapshots and backups: on the leader, verified, copied off the node, drilled. */
export function backupActivities(deps: ActivityDeps) {
  return {
    /** Snapshot on the leader into the backup dir, integrity verified. Source: reference 000 §4. */
    takeSnapshot: clusterActivity(deps, (ops, input: ClusterInput & { label: string }) => snapshotOnLeader(ops, input.label)),

    /** Backup with retention: `<cluster>-<member>-rev<revision>-<stamp>.db`, newest `keep` kept. */
    takeBackup: clusterActivity(deps, (ops, input: ClusterInput & { stamp: string; keep: number }) => backupOnLeader(ops, input.stamp, input.keep)),

    /** Streams a backup to the inventory's backup host, SHA-256 checked, with its retention (node/offNode.ts). */
    copyBackupOffNode: clusterActivity(deps, (ops, input: NodeInput & { path: string; sizeBytes: number }) => copyBackupOffNode(ops, input.node, input.path, input.sizeBytes)),

    /** Restore drill of the newest off-node copy on the backup host (node/drill.ts). */
    drillNewestCopy: clusterActivity(deps, (ops) => drillNewestCopy(ops)),

    /** Checks a snapshot file on a node (SHA-256 trailer, `snapshot status`). Read-only; a bad file is a verdict, not an error. */
    verifySnapshot: clusterActivity(deps, async (ops, input: NodeInput & { path: string }) => {
      try {
        return { ok: true as const, info: await verifySnapshotFile(ops, input.node, input.path) };
      } catch (e) {
        if (e instanceof CommandFailedError) return { ok: false as const, error: e.message };
        throw e;
      }
    }),
  };
}
