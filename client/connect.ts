import { Client, Connection } from '@temporalio/client';
import { temporalSettings, type TemporalSettings } from '../config/temporal';

/** A Temporal client for the configured server; close() the connection when done. */
export async function connectClient(settings: TemporalSettings = temporalSettings()): Promise<{ client: Client; connection: Connection; settings: TemporalSettings }> {
  const connection = await Connection.connect({ address: settings.address });
  return { client: new Client({ connection, namespace: settings.namespace }), connection, settings };
}
