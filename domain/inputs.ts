import { z } from 'zod';

/** Node and cluster names: DNS-label style, so they are safe in file names, argv and workflow ids. */
export const NameSchema = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'must be lowercase letters, digits, "-" or "." (DNS label style)');

/** Who approves: a user name or chat handle (no spaces or shell characters). */
export const ApproverSchema = z.string().regex(/^[A-Za-z0-9@._-]{1,64}$/, 'must be a user name (letters, digits, @ . _ -)');

/**
 * Approval settings every runbook takes. `approvedBy` approves every destructive step up front
 * (CLI `--yes`); otherwise each waits for an `approve` update, up to `approvalTimeoutSeconds`.
 */
export const ApprovalInputSchema = z.strictObject({
  approvedBy: ApproverSchema.optional(),
  approvalTimeoutSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(3600),
});

/** Input of the `approve` update: which step, who. */
export const ApproveSchema = z.strictObject({ step: z.string().min(1).max(200), by: ApproverSchema });
export type ApproveInput = z.input<typeof ApproveSchema>;

/**
 * Input of the `expandCluster` workflow. No secrets and no addresses: the worker resolves node
 * names through its inventory. `inventoryDigest` is the SHA-256 of the inventory file the client
 * used; the worker refuses to act if its own file differs.
 */
export const ExpandInputSchema = z.strictObject({
  cluster: NameSchema,
  add: z.array(NameSchema).min(1, 'name at least one node to add').max(8),
  allowEvenSize: z.boolean().default(false),
  inventoryDigest: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256').optional(),
});
export type ExpandInput = z.input<typeof ExpandInputSchema>;

/** Formats a zod error as `field: message` lines, naming the field. */
export function describeZodError(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}
