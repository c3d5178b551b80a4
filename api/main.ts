import { readFileSync } from 'node:fs';
import { frontEndService, untilStopped } from '../service/frontEnd';
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
  const { service, access, close } = frontEndService('api', o.inventory);
  const https = o.tlsCert && o.tlsKey ? {
    cert: readFileSync(o.tlsCert), key: readFileSync(o.tlsKey),
    ...(o.clientCa ? { ca: readFileSync(o.clientCa), requestCert: true, rejectUnauthorized: false } : {}),
  } : undefined;
  const app = await buildApi({
    service,
    auth: new Authenticator(access),
    fastify: https ? { https } : {},
  });
  const [host, port] = splitListen(o.listen);
  await app.listen({ host, port });
  console.error(`api: listening on ${https ? 'https' : 'http'}://${o.listen} (OpenAPI at /openapi.json)`);
  await untilStopped();
  await app.close();
  await close();
}

function splitListen(listen: string): [string, number] {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--listen: ${listen} is not host:port`);
  return [listen.slice(0, i).replace(/^\[|\]$/g, ''), port];
}
