import { existsSync, readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { FOUR_EYES_DEFAULT, RoleSchema, type Role } from '../domain/identity';
import { describeZodError } from '../domain/inputs';

const Roles = z.array(RoleSchema).min(1).max(4);
const Principal = z.string().regex(/^[A-Za-z0-9@._:+-]{1,128}$/, 'must be letters, digits, @ . _ : + -');
const ChatUser = z.strictObject({ principal: Principal, roles: Roles });

/**
 * Who may do what, from the YAML file at ETCD_RUNBOOKS_ACCESS (default
 * /etc/etcd-runbooks/access.yaml; absent: no API access, every OS user of the CLI is admin).
 * - `fourEyes`: the runbooks (workflow names) whose approvals need a second person; default
 *   domain/identity.ts FOUR_EYES_DEFAULT.
 * - `osUsers`: CLI users and their roles; when set, users not listed are refused.
 * - `tokens`: static API bearer tokens, stored as the SHA-256 (hex) of the token, never the token.
 * - `oidc`: JWT bearer tokens verified against the issuer's JWKS (RFC 7517); the principal from
 *   `principalClaim` (default `sub`), roles from `rolesClaim` (array or space-separated string)
 *   filtered to known roles, or `defaultRoles`.
 * - `mtls`: client certificates the API's TLS accepts, by subject CN, with roles.
 * - `slack.users`, `matrix.users`: chat users (Slack user id, Matrix user id) mapped to a
 *   principal and roles; chat users not listed are refused.
 */
export const AccessSchema = z.strictObject({
  fourEyes: z.array(z.string().regex(/^[a-zA-Z]+$/)).optional(),
  osUsers: z.record(Principal, Roles).optional(),
  tokens: z.array(z.strictObject({ name: Principal, sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the token'), roles: Roles })).default([]),
  oidc: z.strictObject({
    issuer: z.string().url(),
    audience: z.string().min(1),
    jwksUrl: z.string().url(),
    principalClaim: z.string().default('sub'),
    rolesClaim: z.string().default('roles'),
    defaultRoles: z.array(RoleSchema).default([]),
  }).optional(),
  mtls: z.record(z.string().min(1), Roles).optional(),
  slack: z.strictObject({ users: z.record(z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'must be a Slack user id'), ChatUser) }).optional(),
  matrix: z.strictObject({ users: z.record(z.string().regex(/^@[a-z0-9._=\/+-]+:[A-Za-z0-9.:-]+$/, 'must be a Matrix user id (@name:server)'), ChatUser) }).optional(),
});
export type Access = z.output<typeof AccessSchema>;

/** Loads and validates the access file; throws an Error naming the file and field. */
export function loadAccess(file = process.env.ETCD_RUNBOOKS_ACCESS || '/etc/etcd-runbooks/access.yaml'): Access {
  if (!existsSync(file)) return AccessSchema.parse({});
  const parsed = AccessSchema.safeParse(YAML.parse(readFileSync(file, 'utf8')) ?? {});
  if (!parsed.success) throw new Error(`${file}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Whether `workflow`'s approvals need a second person under `access`. */
export function fourEyesFor(access: Access, workflow: string): boolean {
  return (access.fourEyes ?? FOUR_EYES_DEFAULT).includes(workflow);
}

/** The CLI user's roles: admin when `osUsers` is not configured, none when it is and `user` is not listed. */
export function osUserRoles(access: Access, user: string): Role[] {
  if (!access.osUsers) return ['admin'];
  return access.osUsers[user] ?? [];
}
