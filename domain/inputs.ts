import { z } from 'zod';
import { SignedDecisionSchema, TrustSchema } from './decision';
import { ActorSchema, IdentitySchema } from './identity';

/** Node and cluster names: DNS-label style, so they are safe in file names, argv and workflow ids. */
export const NameSchema = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'must be lowercase letters, digits, "-" or "." (DNS label style)');

/** Who approves: a user name or chat handle (no spaces or shell characters). */
export const ApproverSchema = z.string().regex(/^[A-Za-z0-9@._:+-]{1,128}$/, 'must be a user name (letters, digits, @ . _ : + -)');

/**
 * Approval settings and authority every runbook takes. Since 0.6 (workflows/decisions.ts) a run
 * acts only on `authority`, the start decision a front end signed after authenticating the
 * requester, verified against `trust`, the front ends' public keys pinned from the root-owned
 * trust file (every activity checks them against its worker's copy). The requester, their roles,
 * four-eyes and up-front approval (`--yes`) come from that decision; `requester`, `fourEyes` and
 * `approvedBy` are refused in the input of a signed run and kept only so runs started before 0.6
 * replay. Each destructive step waits for a signed `approve` update, up to `approvalTimeoutSeconds`.
 */
export const ApprovalInputSchema = z.strictObject({
  approvedBy: ApproverSchema.optional(),
  approvalTimeoutSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(3600),
  requester: IdentitySchema.optional(),
  fourEyes: z.boolean().optional(),
  authority: SignedDecisionSchema.optional(),
  trust: TrustSchema.optional(),
  /** Plan only: pre-flight reads, then the plan with its projection; nothing changes on any node. */
  dryRun: z.boolean().optional(),
});

/**
 * Input of the `approve` update: the waiting step and the approver's signed decision. `by` and
 * `approver` are what runs started before 0.6 take (they are refused by signed runs).
 */
export const ApproveSchema = z.strictObject({ step: z.string().min(1).max(200), by: ApproverSchema.optional(), approver: ActorSchema.optional(), decision: SignedDecisionSchema.optional() })
  .refine((v) => v.by !== undefined || v.decision !== undefined, { message: 'a signed decision is required', path: ['decision'] });
export type ApproveInput = z.input<typeof ApproveSchema>;

/** Input of the `reject` update: the waiting step and the signed decision (with its reason); `by`/`reason` for runs before 0.6. */
export const RejectSchema = z.strictObject({ step: z.string().min(1).max(200), by: ActorSchema.optional(), reason: z.string().min(1).max(500).optional(), decision: SignedDecisionSchema.optional() })
  .refine((v) => v.decision !== undefined || (v.by !== undefined && v.reason !== undefined), { message: 'a signed decision is required', path: ['decision'] });
export type RejectInput = z.input<typeof RejectSchema>;

/** Input of the `cancel` update (signed runs): the canceller's signed decision, its reason inside. */
export const CancelSchema = z.strictObject({ decision: SignedDecisionSchema });
export type CancelInput = z.input<typeof CancelSchema>;

/**
 * Input of the `expandCluster` workflow. No secrets and no addresses: the worker resolves node
 * names through its inventory. `inventoryDigest` is the SHA-256 of the inventory file the client
 * used; the worker refuses to act if its own file differs.
 */
const Digest = z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256').optional();

export const ExpandInputSchema = z.strictObject({
  cluster: NameSchema,
  add: z.array(NameSchema).min(1, 'name at least one node to add').max(8),
  allowEvenSize: z.boolean().default(false),
  inventoryDigest: Digest,
  ...ApprovalInputSchema.shape,
});
export type ExpandInput = z.input<typeof ExpandInputSchema>;

/** Input of `kubeSync`: point the control plane of the cluster at its members, nothing else. */
export const KubeSyncInputSchema = z.strictObject({
  cluster: NameSchema,
  inventoryDigest: Digest,
  ...ApprovalInputSchema.shape,
});
export type KubeSyncInput = z.input<typeof KubeSyncInputSchema>;

/** Formats a zod error as `field: message` lines, naming the field. */
export function describeZodError(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ');
}

/** Common fields of every runbook input: the cluster, the inventory digest, approval settings. */
const RunbookFields = { cluster: NameSchema, inventoryDigest: Digest, ...ApprovalInputSchema.shape };

/** `removeMember`: take `node`'s member out (refused if quorum would be lost or it leads). */
export const RemoveMemberInputSchema = z.strictObject({ ...RunbookFields, node: NameSchema, allowTwoToOne: z.boolean().default(false) });
/** `moveLeader`: make `to`'s member the leader. */
export const MoveLeaderInputSchema = z.strictObject({ ...RunbookFields, to: NameSchema });
/** `promoteMember`: promote `node`'s learner. */
export const PromoteInputSchema = z.strictObject({ ...RunbookFields, node: NameSchema });
/** `backupCluster`: snapshot with retention of the newest `keep` backups. */
export const BackupInputSchema = z.strictObject({ ...RunbookFields, keep: z.number().int().min(1).max(1000).default(7) });
/**
 * `defragCluster`: online defragmentation, one member at a time, of every voting member with at
 * least `minFreePercent` of its database file free (domain/defrag.ts), then a NOSPACE alarm
 * disarmed when space is back under the quota. `offline`: each member is stopped and rewritten by
 * `etcdutl defrag` instead (a database too large to rewrite online), then started again.
 */
export const DefragInputSchema = z.strictObject({ ...RunbookFields, minFreePercent: z.number().int().min(0).max(100).default(10), offline: z.boolean().default(false) });
export type DefragInput = z.input<typeof DefragInputSchema>;
/**
 * `upgradeCluster`: rolling upgrade of every voting member to etcd `version` (a patch, or the next minor),
 * followers first, the leader last (domain/upgrade.ts).
 */
export const UpgradeInputSchema = z.strictObject({ ...RunbookFields, version: z.string().regex(/^\d+\.\d+\.\d+$/, 'must be a release version like 3.6.16') });
export type UpgradeInput = z.input<typeof UpgradeInputSchema>;
/** `rotateCerts`: renew every member's server, peer and client certificates for `days` days, one member at a time. */
export const RotateCertsInputSchema = z.strictObject({ ...RunbookFields, days: z.number().int().min(1).max(3650).default(365) });
export type RotateCertsInput = z.input<typeof RotateCertsInputSchema>;
/** `drillRestore`: restore the newest off-node copy on the backup host and check it. */
export const DrillInputSchema = z.strictObject({ ...RunbookFields });
export type DrillInput = z.input<typeof DrillInputSchema>;
/** Seconds in an interval written `<n>s|m|h|d` (e.g. `90s`, `1h`); undefined when malformed. */
export function intervalSeconds(every: string): number | undefined {
  const m = /^([1-9][0-9]{0,6})(s|m|h|d)$/.exec(every);
  return m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'] : undefined;
}
/** `schedule backup`: a backup run of `cluster` every `every` (at least 10 s), keeping the newest `keep`. */
export const ScheduleBackupInputSchema = z.strictObject({
  cluster: NameSchema,
  every: z.string().refine((v) => (intervalSeconds(v) ?? 0) >= 10, { message: 'an interval like 90s, 15m, 1h or 1d, at least 10s' }),
  keep: z.number().int().min(1).max(1000).default(7),
});
export type ScheduleBackupInput = z.input<typeof ScheduleBackupInputSchema>;
/** `replaceMember`: remove `failed`'s member, then add `replacement` (default: the same node, repaired). */
export const ReplaceMemberInputSchema = z.strictObject({ ...RunbookFields, failed: NameSchema, replacement: NameSchema.optional() });
/** `migrateMember`: add `to` first, then remove `from`. */
export const MigrateMemberInputSchema = z.strictObject({ ...RunbookFields, from: NameSchema, to: NameSchema })
  .refine((v) => v.from !== v.to, { message: 'from and to must be different nodes', path: ['to'] });

/** `cleanupNode`: finish what a run left on `node` (not a member). */
export const CleanupInputSchema = z.strictObject({ ...RunbookFields, node: NameSchema });
export type CleanupInput = z.input<typeof CleanupInputSchema>;

export type RemoveMemberInput = z.input<typeof RemoveMemberInputSchema>;
export type MoveLeaderInput = z.input<typeof MoveLeaderInputSchema>;
export type PromoteInput = z.input<typeof PromoteInputSchema>;
export type BackupInput = z.input<typeof BackupInputSchema>;
export type ReplaceMemberInput = z.input<typeof ReplaceMemberInputSchema>;
export type MigrateMemberInput = z.input<typeof MigrateMemberInputSchema>;

/**
 * An absolute, normalised path without spaces, shell or control characters: no `..` or `.`
 * component, no `//`, no trailing `/`. Shared with the inventory's path fields.
 */
export const SafePath = z.string().max(4096)
  .regex(/^\/[A-Za-z0-9._/+@:-]*$/, 'must be an absolute path of letters, digits and . _ - + @ : / (no spaces, quotes or control characters)')
  .refine((p) => p === '/' || p.split('/').slice(1).every((c) => c !== '' && c !== '.' && c !== '..'), 'must be normalised: no "..", "." or empty components, no trailing "/"');

/**
 * `restoreCluster`: the snapshot (a file on one node), the node to restore on (default: the first
 * member) and the nodes whose members form the restored cluster, in the order they are added.
 */
export const RestoreInputSchema = z.strictObject({
  ...RunbookFields,
  snapshot: z.strictObject({ node: NameSchema, path: SafePath }),
  restoreOn: NameSchema.optional(),
  members: z.array(NameSchema).min(1).max(9),
  /**
   * Revisions to add on top of the snapshot's (`snapshot restore --bump-revision N --mark-compacted`);
   * 0 turns the bump off. Absent: chosen by domain/revisionBump.ts (on when the inventory says the
   * cluster backs Kubernetes).
   */
  bumpRevision: z.number().int().min(0).max(1e15).optional(),
}).refine((v) => !v.restoreOn || v.members.includes(v.restoreOn), { message: 'restoreOn must be one of members', path: ['restoreOn'] })
  .refine((v) => new Set(v.members).size === v.members.length, { message: 'members must not repeat a node', path: ['members'] });

/**
 * `recoverQuorum`: the nodes of the cluster's members (survivors and lost ones). The lost ones are
 * re-added once they answer again, waiting up to `waitForNodesSeconds` for each.
 */
export const RecoverQuorumInputSchema = z.strictObject({
  ...RunbookFields,
  members: z.array(NameSchema).min(1).max(9),
  waitForNodesSeconds: z.number().int().min(10).max(7 * 24 * 3600).default(3600),
}).refine((v) => new Set(v.members).size === v.members.length, { message: 'members must not repeat a node', path: ['members'] });

export type RestoreInput = z.input<typeof RestoreInputSchema>;
export type RecoverQuorumInput = z.input<typeof RecoverQuorumInputSchema>;
