/** Every workflow the worker registers. Deterministic code only (see eslint.config.mjs). */
export { expandCluster } from './expandCluster';
export { replaceMember } from './replaceMember';
export { migrateMember } from './migrateMember';
export { removeMember } from './removeMember';
export { moveLeader } from './moveLeader';
export { promoteMember } from './promoteMember';
export { backupCluster } from './backupCluster';
export { drillRestore } from './drillRestore';
export { clusterStatus } from './clusterStatus';
export { progressQuery } from './runbook';
export { approveUpdate, rejectUpdate } from './approval';
export { restoreCluster } from './restoreCluster';
export { recoverQuorum } from './recoverQuorum';
export { cleanupNode } from './cleanupNode';
export { kubeSync } from './kubeSync';
