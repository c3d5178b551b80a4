/** Every workflow the worker registers. Deterministic code only (see eslint.config.mjs). */
import { guarded } from './decisions';
import { expandCluster as expand } from './expandCluster';
import { replaceMember as replace } from './replaceMember';
import { migrateMember as migrate } from './migrateMember';
import { removeMember as remove } from './removeMember';
import { moveLeader as move } from './moveLeader';
import { promoteMember as promote } from './promoteMember';
import { backupCluster as backup } from './backupCluster';
import { drillRestore as drill } from './drillRestore';
import { restoreCluster as restore } from './restoreCluster';
import { recoverQuorum as recover } from './recoverQuorum';
import { cleanupNode as cleanup } from './cleanupNode';
import { kubeSync as sync } from './kubeSync';
import { defragCluster as defrag } from './defragCluster';
import { upgradeCluster as upgrade } from './upgradeCluster';
import { rotateCerts as rotate } from './rotateCerts';

// Runbooks act on signed cancels only (workflows/decisions.ts): a cancel request sent straight
// to Temporal does not reach their body.
export const expandCluster = guarded('expandCluster', expand);
export const replaceMember = guarded('replaceMember', replace);
export const migrateMember = guarded('migrateMember', migrate);
export const removeMember = guarded('removeMember', remove);
export const moveLeader = guarded('moveLeader', move);
export const promoteMember = guarded('promoteMember', promote);
export const backupCluster = guarded('backupCluster', backup);
export const drillRestore = guarded('drillRestore', drill);
export const restoreCluster = guarded('restoreCluster', restore);
export const recoverQuorum = guarded('recoverQuorum', recover);
export const cleanupNode = guarded('cleanupNode', cleanup);
export const kubeSync = guarded('kubeSync', sync);
export const defragCluster = guarded('defragCluster', defrag);
export const upgradeCluster = guarded('upgradeCluster', upgrade);
export const rotateCerts = guarded('rotateCerts', rotate);
export { clusterStatus } from './clusterStatus';
export { clusterDoctor } from './clusterDoctor';
export { watchCluster, watchQuery } from './watchCluster';
export { progressQuery } from './runbook';
export { approveUpdate, rejectUpdate, cancelUpdate } from './approval';
