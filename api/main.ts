import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { liveAccess } from '../config/access';
import { temporalConnection, temporalSettings } from '../config/temporal';
import { InventoryFiles } from '../service/inventories';
import { RunService } from '../service/runs';
import { ensureSearchAttributes } from '../service/searchAttributes';
import { Authenticator } from './auth';
import { buildApi } from './server';

/** `etcd-runbooks api` options: inventories, where to listen, TLS (with client certificates when `clientCa` is set). */
export interface ApiOptions {
  inventory: string[];
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  clientCa?: string;
}

/**
 * Serves the HTTP API until SIGTERM/SIGINT. The Temporal connection is lazy: the API starts and
 * answers 503 while Temporal is unreachable. Access (tokens, OIDC, mTLS, roles) from
 * config/access.ts; Temporal from config/temporal.ts.
 */
export async function runApi(o: ApiOptions): Promise<void> {
  const settings = temporalSettings();
  const access = liveAccess();
  // No gRPC retries: while Temporal does not answer, a caller gets 503 with Retry-After at once
  // (and retries with its Idempotency-Key) instead of a request held for a minute.
  const connection = Connection.lazy({ ...temporalConnection(settings), interceptors: [] });
  const client = new Client({ connection, namespace: settings.namespace, identity: 'etcd-runbooks-api' });
  ensureSearchAttributes(connection, settings.namespace).catch((e: Error) => console.error(`api: search attributes not registered yet: ${e.message}`));
  const inventories = o.inventory.length ? o.inventory : (process.env.ETCD_RUNBOOKS_INVENTORY ?? '').split(':').filter(Boolean);
  const https = o.tlsCert && o.tlsKey ? {
    cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey),
    ...(o.clientCa ? { ca: readFileSync(o.clientCa), requestCert: true, rejectUnauthorized: false } : {}),
  } : undefined;
  const app = await buildApi({
    service: new RunService(client, settings.taskQueue, new InventoryFiles(inventories), access),
    auth: new Authenticator(access),
    fastify: https ? { https } : {},
  });
  const [host, port] = splitListen(o.listen);
  await app.listen({ host, port });
  console.error(`api: listening on ${https ? 'https' : 'http'}://${o.listen} (OpenAPI at /openapi.json)`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => resolve());
  });
  await app.close();
  await connection.close();
}

function splitListen(listen: string): [string, number] {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--listen: ${listen} is not host:port`);
  return [listen.slice(0, i).replace(/^\[|\]$/g, ''), port];
}
