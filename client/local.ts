import { closeSync, openSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ServiceError, type ServiceErrorKind } from '../service/errors';
import type { CliRuns, StatusView } from './port';

const KINDS: ServiceErrorKind[] = ['invalid', 'unauthenticated', 'forbidden', 'not-found', 'conflict', 'unavailable'];

/** One JSON request over the unix socket; a non-2xx answer throws ServiceError with the API's kind and message. */
function call<T>(socketPath: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      socketPath, method, path,
      headers: { ...(data ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let json: unknown;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        if ((res.statusCode ?? 500) < 300) return resolve(json as T);
        const err = (json as { error?: { kind?: string; message?: string } } | undefined)?.error;
        const kind = KINDS.includes(err?.kind as ServiceErrorKind) ? (err!.kind as ServiceErrorKind) : 'unavailable';
        reject(new ServiceError(kind, err?.message ?? `HTTP ${res.statusCode} from ${socketPath}`));
      });
    });
    req.on('error', (e: NodeJS.ErrnoException) => reject(new ServiceError('unavailable',
      `the etcd-runbooks CLI service does not answer at ${socketPath} (${e.code ?? e.message}): is etcd-runbooks-cli.service running?`)));
    req.end(data);
  });
}

/** A session token from the local CLI service, for proving this process's uid (see localRuns). */
async function openSession(socketPath: string): Promise<string> {
  const challenge = await call<{ nonce: string; dir: string }>(socketPath, 'POST', '/v1/local/challenge', {});
  const proof = join(challenge.dir, challenge.nonce);
  closeSync(openSync(proof, 'wx', 0o600));
  try {
    return (await call<{ token: string }>(socketPath, 'POST', '/v1/local/session', { nonce: challenge.nonce })).token;
  } finally {
    rmSync(proof, { force: true }); // the service removes it; this is for a refused session
  }
}

/**
 * Opens a session with the local CLI service at `socketPath` by proving this process's uid
 * (api/localSessions.ts): ask for a challenge, create the file it names (O_EXCL, mode 0600: owned by
 * us, says the kernel), ask for the session. Then CliRuns over the HTTP API's routes.
 */
export async function localRuns(socketPath: string): Promise<CliRuns> {
  let token = await openSession(socketPath);
  // A session lasts 15 min; a run followed for hours gets a new one, proved again, when it ends.
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return await call<T>(socketPath, method, path, body, token);
    } catch (e) {
      if (!(e instanceof ServiceError && e.kind === 'unauthenticated')) throw e;
      token = await openSession(socketPath);
      return call<T>(socketPath, method, path, body, token);
    }
  };
  const me = await api<{ principal: string }>('GET', '/v1/whoami');
  const c = (cluster: string) => `/v1/clusters/${encodeURIComponent(cluster)}`;
  return {
    principal: me.principal,
    start: (name, cluster, fields, o) => api('POST', `${c(cluster)}/runbooks/${name}${o.approvedUpFront ? '?approveUpFront=true' : ''}`, fields),
    get: (cluster, runId) => api('GET', `${c(cluster)}/runs/${runId ?? 'latest'}`),
    approve: (cluster, step, runId) => api('POST', `${c(cluster)}/runs/${runId}/approve`, { step }),
    reject: (cluster, step, reason, runId) => api('POST', `${c(cluster)}/runs/${runId}/reject`, { step, reason }),
    cancel: (cluster, reason, runId) => api('POST', `${c(cluster)}/runs/${runId}/cancel`, { reason }),
    list: (cluster, limit) => api('GET', `${c(cluster)}/runs?limit=${limit}`),
    status: async (cluster): Promise<StatusView> => {
      const [state, recoveryPoint] = await Promise.all([api<Omit<StatusView, 'recoveryPoint'>>('GET', `${c(cluster)}/status`), api<StatusView['recoveryPoint']>('GET', `${c(cluster)}/recovery-point`)]);
      return { ...state, recoveryPoint };
    },
    proposals: (cluster) => api('GET', `${c(cluster)}/proposals`),
    accept: (cluster, id) => api('POST', `${c(cluster)}/proposals/${encodeURIComponent(id)}/accept`, {}),
    doctor: (cluster) => api('GET', `${c(cluster)}/doctor`),
    close: async () => undefined,
  };
}
