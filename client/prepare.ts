import { userInfo } from 'node:os';
import type { z } from 'zod';
import { describeZodError } from '../domain/inputs';
import { inventoryDigest, loadInventoryFile } from '../inventory/load';
import { nodeByName, type Inventory } from '../inventory/schema';

/** Options every runbook verb takes. */
export interface RunbookCliOptions {
  inventory: string;
  /** Approve every destructive step up front, as this user. */
  yes?: boolean;
  approvalTimeout?: string;
  wait?: boolean;
}

/** A runbook's input, validated, with the inventory it names: what runRunbook starts. */
export interface PreparedRun {
  /** The workflow's name, e.g. `expandCluster`. */
  runbook: string;
  inv: Inventory;
  /** The schema's output: the workflow's one argument. */
  input: unknown;
  /** The runbook's own fields, as given (the service validates them again with the requester). */
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
 * Validates `fields` with `schema` together with the cluster, inventory digest and approval
 * settings, and checks every node named in `nodes` exists in the inventory. Nothing is started on
 * bad input: throws an Error naming the field. Loads no Temporal code, so a refusal is quick.
 */
export function prepareRun(runbook: string, schema: z.ZodType, opts: RunbookCliOptions, fields: Record<string, unknown>, nodes: string[]): PreparedRun {
  const inv: Inventory = loadInventoryFile(opts.inventory);
  const parsed = schema.safeParse({
    cluster: inv.cluster, inventoryDigest: inventoryDigest(opts.inventory), ...fields,
    ...(opts.yes ? { approvedBy: approver() } : {}),
    ...(opts.approvalTimeout ? { approvalTimeoutSeconds: Number(opts.approvalTimeout) } : {}),
  });
  if (!parsed.success) throw new Error(`${runbook}: ${describeZodError(parsed.error)}`);
  for (const n of nodes) nodeByName(inv, n);
  return { runbook, inv, input: parsed.data, fields, opts };
}
