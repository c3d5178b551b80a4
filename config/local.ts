/**
 * Where the local CLI service (`etcd-runbooks cli-service`, api/local.ts) listens on the head node.
 * Callers prove their uid in `<its directory>/callers` (api/localSessions.ts).
 */
export const LOCAL_SOCKET = '/run/etcd-runbooks/cli.sock';

/** The socket the CLI uses: ETCD_RUNBOOKS_SOCKET or LOCAL_SOCKET (where to knock only: who knocks is proved, not said). */
export function localSocket(env: NodeJS.ProcessEnv = process.env): string {
  return env.ETCD_RUNBOOKS_SOCKET || LOCAL_SOCKET;
}
