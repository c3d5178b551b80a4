import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { AccessRef } from '../config/access';
import type { RunService } from '../service/runs';
import { frontEndService, untilStopped } from '../service/frontEnd';
import { LocalSessions } from './localSessions';
import { buildApi } from './server';

/** The proof directory beside a socket: `<dir of socket>/callers`. */
export const proofDirOf = (socket: string): string => `${dirname(socket)}/callers`;

/**
 * Makes the proof directory: owned by this process's user, mode 1733 (anyone creates, nobody else
 * lists, removes or renames: sticky). Refuses one that is a link, or has another owner or mode
 * (someone could then list or swap the proof files).
 */
export function makeProofDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o1733 });
  chmodSync(dir, 0o1733); // the umask narrowed mkdir's mode
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o7777) !== 0o1733) {
    throw new Error(`${dir}: must be a directory owned by uid ${uid} with mode 1733 (is ${st.isDirectory() ? `uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}` : 'not a directory'})`);
  }
}

/**
 * The HTTP API with local sessions (api/localSessions.ts) as its only way in, listening on
 * `socket` (mode 0666) with its proof directory beside it. close() the app to stop.
 */
export async function serveCliService(service: RunService, access: AccessRef, socket: string): Promise<FastifyInstance> {
  const local = new LocalSessions(proofDirOf(socket), access);
  makeProofDir(proofDirOf(socket));
  const app = await buildApi({
    service,
    auth: { authenticate: async (c) => local.actorOf(/^Bearer\s+([0-9a-f]{64})$/i.exec(c.authorization ?? '')?.[1] ?? '') },
    local,
  });
  rmSync(socket, { force: true }); // a socket file left by a process that died
  await app.listen({ path: socket });
  chmodSync(socket, 0o666); // every OS user may ask; what they may do is the policy's
  return app;
}

/**
 * `etcd-runbooks cli-service`: the HTTP API on a unix socket (mode 0666) for the CLI of OS users
 * who are not root, until SIGTERM/SIGINT. Callers prove their uid (api/localSessions.ts); the
 * service signs their decisions with the `cli` channel's key, which they cannot read. Same routes,
 * roles and checks as `etcd-runbooks api`; inventories from ETCD_RUNBOOKS_INVENTORY.
 */
export async function runCliService(o: { socket: string; inventory: string[] }): Promise<void> {
  const { service, access, close } = frontEndService('cli-service', o.inventory);
  const app = await serveCliService(service, access, o.socket);
  console.error(`cli-service: listening on ${o.socket}`);
  await untilStopped();
  await app.close();
  await close();
}
