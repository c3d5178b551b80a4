import { loadAccess } from '../config/access';
import { osUserRoles } from '../config/access';
import type { Actor } from '../domain/identity';
import { InventoryFile } from '../service/inventories';
import { ensureSearchAttributes } from '../service/searchAttributes';
import { RunService } from '../service/runs';
import { connectClient } from './connect';
import { approver } from './prepare';

/**
 * The CLI's caller: the OS user, method `os-user`, with the roles the access config gives that user
 * (admin when it lists no OS users). Throws when the access config lists OS users and not this one.
 */
export function cliActor(): Actor {
  const principal = approver();
  const roles = osUserRoles(loadAccess(), principal);
  if (!roles.length) throw new Error(`OS user ${principal} has no roles in the access config (ETCD_RUNBOOKS_ACCESS osUsers)`);
  return { principal, method: 'os-user', channel: 'cli', roles };
}

/** The service layer over the configured Temporal server, for the cluster of one inventory file; close() when done. */
export async function cliService(inventory: string): Promise<{ service: RunService; actor: Actor; close: () => Promise<void>; client: Awaited<ReturnType<typeof connectClient>>['client']; taskQueue: string }> {
  const actor = cliActor();
  const { client, connection, settings } = await connectClient();
  // One cheap list call: a run can carry its search attributes even before any worker registered them.
  await ensureSearchAttributes(connection, settings.namespace);
  return { service: new RunService(client, settings.taskQueue, new InventoryFile(inventory), loadAccess()), actor, client, taskQueue: settings.taskQueue, close: () => connection.close() };
}
