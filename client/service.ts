import { userInfo } from 'node:os';
import { cliAccessFile, loadAccess, osUserRoles, personOf, type Access } from '../config/access';
import { hasRole, type Actor, type Role } from '../domain/identity';
import { InventoryFile } from '../service/inventories';
import { ensureSearchAttributes } from '../service/searchAttributes';
import { RunService } from '../service/runs';
import { connectClient } from './connect';
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

/** The service layer over the configured Temporal server, for the cluster of one inventory file; close() when done. */
export async function cliService(inventory: string): Promise<{ service: RunService; actor: Actor; close: () => Promise<void>; client: Awaited<ReturnType<typeof connectClient>>['client']; taskQueue: string }> {
  const access = cliAccess();
  const actor = cliActor(access);
  const { client, connection, settings } = await connectClient();
  // One cheap list call: a run can carry its search attributes even before any worker registered them.
  await ensureSearchAttributes(connection, settings.namespace);
  return { service: new RunService(client, settings.taskQueue, new InventoryFile(inventory), access), actor, client, taskQueue: settings.taskQueue, close: () => connection.close() };
}
