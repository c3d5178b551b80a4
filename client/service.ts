import { userInfo } from 'node:os';
import { cliAccessFile, loadAccess, osUserRoles, personOf, type Access } from '../config/access';
import { localSocket } from '../config/local';
import { hasRole, type Actor, type Role } from '../domain/identity';
import { InventoryFile } from '../service/inventories';
import { ensureSearchAttributes } from '../service/searchAttributes';
import { RunService } from '../service/runs';
import { cliIsDirect, connectClient } from './connect';
import { directRuns } from './direct';
import { localRuns } from './local';
import type { CliRuns } from './port';
import { approver } from './prepare';

/** The access policy the CLI obeys: root-owned, from cliAccessFile (never from a non-root caller's environment). */
export function cliAccess(): Access {
  return loadAccess(cliAccessFile(userInfo().uid));
}

/**
 * The CLI's caller: the OS user, method `os-user`, with the roles the access policy gives that
 * user (root is admin when it lists no OS users). Throws when the user has no role.
 */
export function cliActor(access: Access = cliAccess()): Actor {
  const principal = approver();
  const roles = osUserRoles(access, principal, userInfo().uid);
  if (!roles.length) throw new Error(`OS user ${principal} has no roles in the access policy (${cliAccessFile(userInfo().uid)} osUsers)`);
  return { principal: personOf(access, 'os-user', principal), method: 'os-user', channel: 'cli', roles };
}

/** The CLI's caller, refused (Error naming the role) unless they hold `role` for `what`. */
export function cliActorWith(role: Role, what: string): Actor {
  const actor = cliActor();
  if (!hasRole(actor.roles, role)) throw new Error(`${actor.principal} (os-user) may not ${what}: needs the ${role} role`);
  return actor;
}

/**
 * cliActorWith for the commands that still talk to Temporal themselves (history, schedule): root
 * only; anyone else is told where to go instead (Error).
 */
export function directActorWith(role: Role, what: string): Actor {
  if (!cliIsDirect()) throw new Error(`${approver()} may not ${what} from this CLI: only root talks to Temporal directly, and history and schedule do not go through the local CLI service yet; ask root on the head node, or use the HTTP API`);
  return cliActorWith(role, what);
}

/**
 * What the CLI asks of etcd-runbooks (client/port.ts): root talks to the configured Temporal
 * server with the service layer in this process, as the OS user; everyone else goes through the
 * local CLI service's socket, which proves their uid and signs for them. close() when done.
 */
export async function cliRuns(inventory: string): Promise<CliRuns> {
  if (!cliIsDirect()) return localRuns(localSocket());
  const access = cliAccess();
  const actor = cliActor(access);
  const { client, connection, settings } = await connectClient();
  // One cheap list call: a run can carry its search attributes even before any worker registered them.
  await ensureSearchAttributes(connection, settings.namespace);
  return directRuns(new RunService(client, settings.taskQueue, new InventoryFile(inventory), access), actor, () => connection.close());
}
