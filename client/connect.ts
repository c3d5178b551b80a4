import { hostname, userInfo } from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { temporalConnection, temporalSettings, type TemporalSettings } from '../config/temporal';

/**
 * The identity the CLI gives Temporal, recorded in each run it starts (and so in its audit
 * record): `cli:<OS user>@<host>`, marked as the CLI's (the OS user, not an authenticated person).
 */
export function cliIdentity(): string {
  return `cli:${userInfo().username}@${hostname()}`;
}

/** A Temporal client for the configured server; close() the connection when done. */
export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<{ client: Client; connection: Connection; settings: TemporalSettings }> {
  const connection = await Connection.connect(temporalConnection(settings));
  return { client: new Client({ connection, namespace: settings.namespace, identity: cliIdentity() }), connection, settings };
}
