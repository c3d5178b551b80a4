import { existsSync, statSync } from 'node:fs';
import YAML from 'yaml';
import { z } from 'zod';
import { FOUR_EYES_DEFAULT, RoleSchema, type Role } from '../domain/identity';
import { describeZodError } from '../domain/inputs';
import { readRootOwned } from './rootOwned';

/** Where the access policy lives unless a root-set environment says otherwise. */
export const ACCESS_FILE = '/etc/etcd-runbooks/access.yaml';

const Roles = z.array(RoleSchema).min(1).max(4);
const Principal = z.string().regex(/^[A-Za-z0-9@._:+-]{1,128}$/, 'must be letters, digits, @ . _ : + -');
const ChatUser = z.strictObject({ principal: Principal, roles: Roles });

/**
 * Who may do what, from the root-owned YAML file at ETCD_RUNBOOKS_ACCESS (default
 * /etc/etcd-runbooks/access.yaml; absent: no API or chat access, and of the CLI's OS users only
 * root, as admin). The CLI reads ETCD_RUNBOOKS_ACCESS only when it runs as root (cliAccessFile).
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
 * - `people`: one person, one principal across channels: `{ alice: { osUsers: [alice],
 *   tokens: [alice-ci], oidc: [<principal claim value>], mtls: [<certificate CN>] } }`. An identity
 *   listed there is that person (personOf), so four-eyes sees alice's OIDC login and her Slack
 *   mapping (principal `alice`) as one person. Roles still come from each channel's own entry.
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
  people: z.record(Principal, z.strictObject({
    osUsers: z.array(z.string().min(1).max(128)).optional(),
    tokens: z.array(z.string().min(1).max(128)).optional(),
    oidc: z.array(z.string().min(1).max(256)).optional(),
    mtls: z.array(z.string().min(1).max(256)).optional(),
  })).optional(),
  matrix: z.strictObject({ users: z.record(z.string().regex(/^@[a-z0-9._=\/+-]+:[A-Za-z0-9.:-]+$/, 'must be a Matrix user id (@name:server)'), ChatUser) }).optional(),
});
export type Access = z.output<typeof AccessSchema>;

/**
 * Loads and validates the access file; throws an Error naming the file and field, or
 * UntrustedFileError when the file is not root's alone (a link, /dev/null, writable by others).
 */
export function loadAccess(file = process.env.ETCD_RUNBOOKS_ACCESS || ACCESS_FILE): Access {
  if (!existsSync(file)) return AccessSchema.parse({});
  const parsed = AccessSchema.safeParse(YAML.parse(readRootOwned(file, 'access file')) ?? {});
  if (!parsed.success) throw new Error(`${file}: ${describeZodError(parsed.error)}`);
  return parsed.data;
}

/** Whether `workflow`'s approvals need a second person under `access`. */
export function fourEyesFor(access: Access, workflow: string): boolean {
  return (access.fourEyes ?? FOUR_EYES_DEFAULT).includes(workflow);
}

/**
 * The access file the CLI obeys: ACCESS_FILE, or ETCD_RUNBOOKS_ACCESS when the CLI runs as root
 * (uid 0). Any other user's environment cannot point it elsewhere.
 */
export function cliAccessFile(uid: number, env: NodeJS.ProcessEnv = process.env): string {
  return uid === 0 && env.ETCD_RUNBOOKS_ACCESS ? env.ETCD_RUNBOOKS_ACCESS : ACCESS_FILE;
}

/** The CLI user's roles: those `osUsers` lists; when it lists none, admin for root (uid 0) and nothing for anyone else. */
export function osUserRoles(access: Access, user: string, uid: number): Role[] {
  if (!access.osUsers) return uid === 0 ? ['admin'] : [];
  return access.osUsers[user] ?? [];
}

/** The access policy as it is now: a long-running front end asks it on every request. */
export type AccessRef = () => Access;

/** An AccessRef for a fixed policy (tests, one-shot CLI calls), or the one given. */
export function accessRef(a: Access | AccessRef): AccessRef {
  return typeof a === 'function' ? a : () => a;
}

/**
 * The access file, read again when it changes (modification time, size; looked at most every
 * `checkMs`): a removed user or role applies to the API and the chat bridges without a restart.
 * A changed file that does not validate keeps the last good policy and logs why.
 */
export function liveAccess(file = process.env.ETCD_RUNBOOKS_ACCESS || ACCESS_FILE, checkMs = 2000, log: (m: string) => void = console.error): AccessRef {
  const stamp = () => { try { const st = statSync(file); return `${st.mtimeMs}:${st.size}:${st.ino}`; } catch { return 'absent'; } };
  let current = loadAccess(file);
  let seen = stamp();
  let checked = Date.now();
  return () => {
    if (Date.now() - checked < checkMs) return current;
    checked = Date.now();
    const now = stamp();
    if (now !== seen) {
      seen = now;
      try {
        current = loadAccess(file);
        log(`access: ${file} changed; the new policy applies from now on`);
      } catch (e) {
        log(`access: ${file} changed but is refused, keeping the previous policy: ${(e as Error).message}`);
      }
    }
    return current;
  };
}

/**
 * The person an identity established by `method` belongs to (access `people`), or `principal`
 * itself when no person lists it. Chat users name their person directly (`slack.users`,
 * `matrix.users` principal), so they need no entry here.
 */
export function personOf(access: Access, method: 'os-user' | 'token' | 'oidc' | 'mtls', principal: string): string {
  const key = ({ 'os-user': 'osUsers', token: 'tokens', oidc: 'oidc', mtls: 'mtls' } as const)[method];
  for (const [person, ids] of Object.entries(access.people ?? {})) if (ids[key]?.includes(principal)) return person;
  return principal;
}
