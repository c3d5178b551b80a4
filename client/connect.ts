import { hostname, userInfo } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { localSocket } from '../config/local';
import { temporalConnection, temporalSettings, type TemporalSettings } from '../config/temporal';

/**
 * The identity the CLI gives Temporal, recorded in each run it starts (and so in its audit
 * record): `cli:<OS user>@<host>`, marked as the CLI's (the OS user, not an authenticated person).
 */
export function cliIdentity(): string {
  return `cli:${userInfo().username}@${hostname()}`;
}

/** Whether this CLI talks to Temporal itself: only root (who can read the keys), and only without ETCD_RUNBOOKS_SOCKET. */
export function cliIsDirect(uid = userInfo().uid, env: NodeJS.ProcessEnv = process.env): boolean {
  return uid === 0 && !env.ETCD_RUNBOOKS_SOCKET;
}

/**
 * A Temporal client for the configured server; close() the connection when done. Root only (with
 * ETCD_RUNBOOKS_SOCKET unset): every other OS user goes through the local CLI service, and the
 * commands that still need Temporal itself (history, schedule) say so instead of trying.
 */
export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<{ client: Client; connection: Connection; settings: TemporalSettings }> {
  if (!cliIsDirect()) {
    throw new Error(`only root talks to Temporal directly; as ${userInfo().username}, runbooks, approve, reject, cancel, runs and status go through the local CLI service (${localSocket()}); history and schedule do not yet: ask root on the head node, or use the HTTP API`);
  }
  const connection = await Connection.connect(temporalConnection(settings));
  return { client: new Client({ connection, namespace: settings.namespace, identity: cliIdentity() }), connection, settings };
}
