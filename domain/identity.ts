import { z } from 'zod';

/**
 * Who asks for a run or approves a step, as authenticated by the channel it came through (never a
 * request field): `principal` is the user name, token name, OIDC subject or chat user; `method`
 * how it was established; `channel` where the request came from. The CLI's identity is the OS
 * user (`os-user`), as the operating system reports it.
 */
export const IdentitySchema = z.strictObject({
  principal: z.string().regex(/^[A-Za-z0-9@._:+-]{1,128}$/, 'must be a user, token or subject name (letters, digits, @ . _ : + -)'),
  method: z.enum(['os-user', 'token', 'oidc', 'mtls', 'slack', 'matrix']),
  channel: z.enum(['cli', 'api', 'slack', 'matrix']),
});
export type Identity = z.infer<typeof IdentitySchema>;

/**
 * Roles, each including the one before it: viewer reads runs and status; operator starts and
 * cancels runbooks; approver approves or rejects waiting steps; admin does everything.
 */
export const RoleSchema = z.enum(['viewer', 'operator', 'approver', 'admin']);
export type Role = z.infer<typeof RoleSchema>;

const RANK: Record<Role, number> = { viewer: 0, operator: 1, approver: 2, admin: 3 };

/** True when any of `roles` is at least `needed`. */
export function hasRole(roles: readonly Role[], needed: Role): boolean {
  return roles.some((r) => RANK[r] >= RANK[needed]);
}

/** An identity with the roles the channel's configuration grants it. */
export const ActorSchema = IdentitySchema.extend({ roles: z.array(RoleSchema).max(4) });
export type Actor = z.infer<typeof ActorSchema>;

/**
 * Runbooks whose approvals need a second person by default (four-eyes): the approver may not be
 * the requester, at the prompt or up front (`--yes`). These destroy data or membership: restore
 * and recover-quorum replace the cluster's data; remove-member, replace and migrate each take a
 * member away. Configurable per runbook (config/access.ts).
 */
export const FOUR_EYES_DEFAULT: readonly string[] = ['restoreCluster', 'recoverQuorum', 'removeMember', 'replaceMember', 'migrateMember'];

/**
 * Custom search attributes (Keyword) the service layer and the workflows set, so that listing runs
 * reads Temporal's visibility store instead of replaying histories. Registered by the worker and
 * the service at start (service/searchAttributes.ts).
 */
export const SEARCH_ATTRIBUTES = {
  cluster: 'EtcdRunbooksCluster',
  requester: 'EtcdRunbooksRequester',
  waitingStep: 'EtcdRunbooksWaitingStep',
  idempotencyKey: 'EtcdRunbooksIdempotencyKey',
} as const;
