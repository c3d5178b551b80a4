/** One workflow id per cluster for runbooks that change it: two such runs cannot overlap. */
export function runbookWorkflowId(cluster: string): string {
  return `etcd-runbooks-${cluster}`;
}
