import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { nodesOf, RUNBOOKS, type RunbookName } from '../service/catalogue';
import { describeZodError } from '../domain/inputs';
import { inventoryDigest, loadInventoryFile } from '../inventory/load';
import { nodeByName, type Inventory } from '../inventory/schema';
import { NameSchema } from '../domain/inputs';

/** Options every runbook verb takes. */
export interface RunbookCliOptions {
  inventory: string;
  /** Approve every destructive step up front, as this user. */
  yes?: boolean;
  approvalTimeout?: string;
  /** Dry run: pre-flight and the plan only. */
  plan?: boolean;
  wait?: boolean;
}

/** A runbook's fields, checked, with the cluster they are for: what runRunbook starts. */
export interface PreparedRun {
  /** The runbook's catalogue name, e.g. `expand`. */
  runbook: RunbookName;
  cluster: string;
  /** The runbook's own fields (the request body; the service validates them again with the requester). */
  fields: Record<string, unknown>;
  opts: RunbookCliOptions;
}

/**
 * The CLI's principal: the OS user it runs as, from the operating system and never from an
 * environment variable or a flag (anyone could set those to another person's name).
 */
export function approver(): string {
  return userInfo().username;
}

export { runbookWorkflowId } from '../service/ids';

/**
 * The inventory `--inventory` names: a readable file, or (for an OS user who cannot read the
 * head node's inventories: the local CLI service reads its own) the cluster's name.
 * Throws naming the option when it is neither.
 */
export function inventoryArg(arg: string): { cluster: string; inv?: Inventory; file?: string } {
  // A directory of that name (`lab/` in a checkout) is not an inventory: the name is the cluster's.
  if (!existsSync(arg) || statSync(arg).isDirectory()) {
    const name = NameSchema.safeParse(arg);
    if (!name.success) throw new Error(`--inventory: ${arg} is neither an inventory file nor a cluster name`);
    return { cluster: name.data };
  }
  try {
    accessSync(arg, constants.R_OK);
  } catch {
    throw new Error(`--inventory: cannot read ${arg}; give the cluster's name instead (the service reads its own inventory)`);
  }
  const inv = loadInventoryFile(arg);
  return { cluster: inv.cluster, inv, file: arg };
}

/**
 * Validates `fields` with the catalogue runbook's schema together with the cluster, inventory
 * digest and approval settings, and checks every node the fields name exists in the inventory
 * (when this user can read it; the service checks again either way). Nothing is started on bad
 * input: throws an Error naming the field. Loads no Temporal code, so a refusal is quick.
 */
export function prepareRun(runbook: RunbookName, opts: RunbookCliOptions, fields: Record<string, unknown>): PreparedRun {
  const { cluster, inv, file } = inventoryArg(opts.inventory);
  const all = { ...fields, ...(opts.approvalTimeout !== undefined ? { approvalTimeoutSeconds: Number(opts.approvalTimeout) } : {}), ...(opts.plan ? { dryRun: true } : {}) };
  const parsed = RUNBOOKS[runbook].schema.safeParse({ cluster, inventoryDigest: file ? inventoryDigest(file) : '0'.repeat(64), ...all });
  if (!parsed.success) throw new Error(`${runbook}: ${describeZodError(parsed.error)}`);
  if (inv) for (const n of nodesOf(all)) nodeByName(inv, n);
  return { runbook, cluster, fields: all, opts };
}
