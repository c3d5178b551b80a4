/**
 * Where the Temporal server is and which task queue the runbooks use. From the environment:
 * TEMPORAL_ADDRESS (host:port, default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default"),
 * ETCD_RUNBOOKS_TASK_QUEUE (default "etcd-runbooks").
 */
export interface TemporalSettings { address: string; namespace: string; taskQueue: string }

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  return {
    address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.ETCD_RUNBOOKS_TASK_QUEUE || 'etcd-runbooks',
  };
}
