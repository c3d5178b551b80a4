import { z } from 'zod';

/** Node and cluster names: DNS-label style, so they are safe in file names, argv and workflow ids. */
export const NameSchema = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'must be lowercase letters, digits, "-" or "." (DNS label style)');

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
