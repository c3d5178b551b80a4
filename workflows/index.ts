/** Every workflow the worker registers. Deterministic code only (see eslint.config.mjs). */
export { expandCluster, progressQuery } from './expandCluster';
export { clusterStatus } from './clusterStatus';
