import type { WorkflowHandle } from '@temporalio/client';
import { backupCluster, defragCluster, expandCluster, migrateMember, recoverQuorum, replaceMember, restoreCluster, rotateCerts, upgradeCluster } from '../workflows';

/** Starts a runbook on the bench's worker with the given input (cluster, digest and up-front approval added). */
export type Starter = <A extends object, R>(wf: (input: A) => Promise<R>, fields: Omit<A, 'cluster' | 'inventoryDigest' | 'approvedBy'>) => Promise<WorkflowHandle>;

/** A floor script's argv: bench/floor/<script> ARGS. */
export type Script = [string, ...string[]];

/**
 * One runbook of the bench, on the lab of 4 nodes (node1 always a member). `setup` brings the lab
 * from one member (node1) to the case's starting point and `teardown` back; `before` is the fault a
 * round starts from and `reset` undoes the round's change; none of them is measured. `floor` and
 * `runbook` do the same etcd work. `writer`: a steady writer through node1 runs during each round.
 */
export interface Case {
  name: string;
  setup: Script[];
  before: Script[];
  floor: Script;
  runbook: (start: Starter) => Promise<WorkflowHandle>;
  reset: Script[];
  teardown: Script[];
  writer: boolean;
}

/** The releases of the upgrade case (a patch upgrade: 3.6 is the lab's minor), staged under the inventory's systemd.releasesDir on every node. */
export const UPGRADE_FROM = '3.6.15';
export const UPGRADE_TO = '3.6.16';

/** The snapshot restore rounds start from, saved on node1 at the case's setup. */
export const RESTORE_SNAPSHOT = '/var/tmp/bench-restore.db';

const THREE: Script = ['expand.sh', 'node1', 'node2', 'node3'];
const BACK_TO_ONE: Script = ['shrink.sh', 'node1', 'node2', 'node3'];
/** After node3's member moved to node4: node4 emptied, node3 cleaned and added again. */
const NODE3_BACK: Script[] = [['shrink.sh', 'node1', 'node4', 'node3'], ['expand.sh', 'node1', 'node3']];

/** The bench's cases, in the order they run. Source of each procedure: the floor script's header. */
export const CASES: Case[] = [
  {
    name: 'expand 1->3', setup: [], before: [], floor: ['expand.sh', 'node1', 'node2', 'node3'],
    runbook: (start) => start(expandCluster, { add: ['node2', 'node3'] }), reset: [BACK_TO_ONE], teardown: [], writer: true,
  },
  {
    name: 'add-member 3->4', setup: [THREE], before: [], floor: ['expand.sh', 'node1', 'node4'],
    runbook: (start) => start(expandCluster, { add: ['node4'], allowEvenSize: true }), reset: [['shrink.sh', 'node1', 'node4']], teardown: [BACK_TO_ONE], writer: false,
  },
  {
    // node3's etcd stopped (its node and SSH up): the failed member; node4 replaces it.
    name: 'replace', setup: [THREE], before: [['stop.sh', 'node3']], floor: ['replace.sh', 'node1', 'node3', 'node4'],
    runbook: (start) => start(replaceMember, { failed: 'node3', replacement: 'node4' }), reset: NODE3_BACK, teardown: [BACK_TO_ONE], writer: true,
  },
  {
    name: 'migrate', setup: [THREE], before: [], floor: ['migrate.sh', 'node1', 'node3', 'node4'],
    runbook: (start) => start(migrateMember, { from: 'node3', to: 'node4' }), reset: NODE3_BACK, teardown: [BACK_TO_ONE], writer: true,
  },
  {
    name: 'restore', setup: [THREE, ['save.sh', 'node1', RESTORE_SNAPSHOT]], before: [], floor: ['restore.sh', RESTORE_SNAPSHOT, 'node1', 'node2', 'node3'],
    runbook: (start) => start(restoreCluster, { snapshot: { node: 'node1', path: RESTORE_SNAPSHOT }, members: ['node1', 'node2', 'node3'] }), reset: [], teardown: [BACK_TO_ONE], writer: false,
  },
  {
    // etcd stopped on node2 and node3: quorum lost, every node still answers SSH.
    name: 'recover-quorum', setup: [THREE], before: [['stop.sh', 'node2', 'node3']], floor: ['recover.sh', 'node1', 'node2', 'node3'],
    runbook: (start) => start(recoverQuorum, { members: ['node1', 'node2', 'node3'] }), reset: [], teardown: [BACK_TO_ONE], writer: false,
  },
  {
    // 3 members, each database with 100 MiB of free pages (written, deleted, compacted) on top of the bulk data.
    name: 'defrag', setup: [THREE], before: [['fragment.sh', 'node1', '100']], floor: ['defrag.sh', 'node1', 'node2', 'node3'],
    runbook: (start) => start(defragCluster, {}), reset: [], teardown: [BACK_TO_ONE], writer: true,
  },
  {
    // Every member's server, peer and client certificates renewed for 30 days by the CA on this host (the inventory's certificateAuthority).
    name: 'rotate-certs', setup: [THREE], before: [], floor: ['rotate.sh', '30', 'node1', 'node2', 'node3'],
    runbook: (start) => start(rotateCerts, { days: 30 }), reset: [], teardown: [BACK_TO_ONE], writer: true,
  },
  {
    // Every member put on UPGRADE_FROM first (not measured), then upgraded to UPGRADE_TO.
    name: 'upgrade', setup: [THREE], before: [['release.sh', UPGRADE_FROM, 'node1', 'node2', 'node3']], floor: ['upgrade.sh', UPGRADE_TO, 'node1', 'node2', 'node3'],
    runbook: (start) => start(upgradeCluster, { version: UPGRADE_TO }), reset: [], teardown: [BACK_TO_ONE], writer: true,
  },
  {
    name: 'backup', setup: [THREE], before: [], floor: ['backup.sh', 'node1', '3'],
    runbook: (start) => start(backupCluster, { keep: 3 }), reset: [], teardown: [BACK_TO_ONE], writer: false,
  },
];
