/** One workflow id per cluster for runbooks that change it: two such runs cannot overlap. */
export function runbookWorkflowId(cluster: string): string {
  return `etcd-runbooks-${cluster}`;
}

/** The workflow ID of a cluster's watch (workflows/watchCluster.ts): one per cluster; the "/" keeps it apart from every cluster's runbook ID. */
export function watchId(cluster: string): string {
  return `etcd-runbooks/watch/${cluster}`;
}
