import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';

/**
 * Where the Temporal server is, how to reach it, and which task queue the runbooks use. From the
 * environment:
 * - TEMPORAL_ADDRESS (host:port, default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default"),
 *   ETCD_RUNBOOKS_TASK_QUEUE (default "etcd-runbooks");
 * - TLS, on when any of these is set: TEMPORAL_TLS=1 (server certificate checked against the
 *   system's roots), TEMPORAL_TLS_CA (PEM of the CA that signed the server's certificate),
 *   TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY (PEM client certificate and key: mTLS),
 *   TEMPORAL_TLS_SERVER_NAME (the name to check the server's certificate for, when it differs from
 *   the address's host);
 * - TEMPORAL_API_KEY_FILE (a file holding the API key, for servers that use them; the key is read
 *   at connect time and never logged).
 * The worker, the CLI, the API and the chat bridges all connect with these (temporalConnection()).
 */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string; serverName?: string };
  apiKeyFile?: string;
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const tlsOn = Boolean(env.TEMPORAL_TLS || env.TEMPORAL_TLS_CA || env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS_SERVER_NAME);
  if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (mTLS needs both)');
  return {
    address: env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.ETCD_RUNBOOKS_TASK_QUEUE || 'etcd-runbooks',
    ...(tlsOn ? {
      tls: {
        ...(env.TEMPORAL_TLS_CA ? { caFile: env.TEMPORAL_TLS_CA } : {}),
        ...(env.TEMPORAL_TLS_CERT ? { certFile: env.TEMPORAL_TLS_CERT, keyFile: env.TEMPORAL_TLS_KEY } : {}),
        ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverName: env.TEMPORAL_TLS_SERVER_NAME } : {}),
      },
    } : {}),
    ...(env.TEMPORAL_API_KEY_FILE ? { apiKeyFile: env.TEMPORAL_API_KEY_FILE } : {}),
  };
}

/**
 * The connection options (address, TLS, API key) for Connection and NativeConnection from
 * `settings`. Reads the PEM and key files; throws an Error naming a file that cannot be read.
 */
export function temporalConnection(settings: TemporalSettings): { address: string; tls?: TLSConfig; apiKey?: string } {
  const read = (file: string, what: string) => {
    try { return readFileSync(file); } catch (e) { throw new Error(`${what} ${file}: ${(e as Error).message}`); }
  };
  const t = settings.tls;
  return {
    address: settings.address,
    ...(t ? {
      tls: {
        ...(t.caFile ? { serverRootCACertificate: read(t.caFile, 'TEMPORAL_TLS_CA') } : {}),
        ...(t.certFile && t.keyFile ? { clientCertPair: { crt: read(t.certFile, 'TEMPORAL_TLS_CERT'), key: read(t.keyFile, 'TEMPORAL_TLS_KEY') } } : {}),
        ...(t.serverName ? { serverNameOverride: t.serverName } : {}),
      },
    } : {}),
    ...(settings.apiKeyFile ? { apiKey: read(settings.apiKeyFile, 'TEMPORAL_API_KEY_FILE').toString('utf8').trim() } : {}),
  };
}
