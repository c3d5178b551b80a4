import { z } from 'zod';
import { IdentitySchema } from '../domain/identity';
import { NameSchema } from '../domain/inputs';

/** Path parameters. */
export const ClusterParams = z.strictObject({ cluster: NameSchema });
/** A proposal of the cluster's watch by id (domain/watch.ts: `<finding key>@<first seen, ms>`). */
export const ProposalParams = z.strictObject({ cluster: NameSchema, proposal: z.string().regex(/^[a-z-]+:?[A-Za-z0-9._-]*@\d+$/, 'must be a proposal id, e.g. member-silent:node3@1764930000000') });
export const RunParams = z.strictObject({ cluster: NameSchema, runId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a run id (UUID)') });

/** Request bodies of the decisions (identity comes from authentication, never from here). */
export const ApproveBody = z.strictObject({ step: z.string().min(1).max(200) });
export const RejectBody = z.strictObject({ step: z.string().min(1).max(200), reason: z.string().min(1).max(500) });
export const CancelBody = z.strictObject({ reason: z.string().min(1).max(500) });

/** Headers every POST may carry: a repeated request with the same key has the effect of one. */
export const IdempotencyHeaders = z.looseObject({ 'idempotency-key': z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 of A-Z a-z 0-9 . _ : -').optional() });

/**
 * `approveUpFront=true`: the caller approves every step of the run as themselves (the CLI's `--yes`):
 * needs the approver role, refused for four-eyes runbooks. Nobody else can be named as approver.
 */
/** `approveUpFront=true`: approve every step as the caller (not under four-eyes); `dryRun=true`: pre-flight and the plan only. */
export const StartQuery = z.strictObject({ approveUpFront: z.enum(['true', 'false']).optional(), dryRun: z.enum(['true', 'false']).optional() });

export const ErrorSchema = z.object({ error: z.object({ kind: z.string(), message: z.string() }) });

export const RunSummarySchema = z.object({
  workflowId: z.string(), runId: z.string(), workflow: z.string(), cluster: z.string().optional(),
  state: z.enum(['running', 'completed', 'failed', 'cancelled', 'terminated', 'timed-out', 'continued']),
  requester: z.string().optional(), waitingStep: z.string().optional(), startedAt: z.string(), closedAt: z.string().optional(),
});

const StepSchema = z.object({
  id: z.string(), title: z.string(), status: z.string(), node: z.string().optional(), source: z.string().optional(), detail: z.string().optional(),
  startedAt: z.string().optional(), finishedAt: z.string().optional(),
  projection: z.object({ voters: z.number(), serving: z.number(), quorum: z.number(), tolerance: z.number(), onCancel: z.string() }).optional(),
});
/** domain/decision.ts DecisionProof: which front end key signed a decision the run verified, its nonce and when it was issued. */
const ProofSchema = z.object({ keyId: z.string(), nonce: z.string(), iat: z.string(), method: z.string(), channel: z.string() });
const ApprovalSchema = z.object({ step: z.string(), question: z.string(), by: z.string(), at: z.string(), upFront: z.boolean(), identity: IdentitySchema.optional(), proof: ProofSchema.optional() });
const RejectionSchema = z.object({ step: z.string(), question: z.string(), by: IdentitySchema, reason: z.string(), at: z.string(), proof: ProofSchema.optional() });
const CancelSchema = z.object({ by: IdentitySchema, reason: z.string(), at: z.string(), proof: ProofSchema });

export const ProgressSchema = z.object({
  runbook: z.string(), cluster: z.string(), outcome: z.string(), message: z.string().optional(),
  steps: z.array(StepSchema),
  liveness: z.array(z.string()).optional(),
  leftovers: z.array(z.object({ node: z.string(), what: z.string(), fix: z.string() })).optional(),
  pendingApproval: z.object({ step: z.string(), question: z.string(), requestedAt: z.string(), expiresAt: z.string() }).optional(),
  approvals: z.array(ApprovalSchema), rejection: RejectionSchema.optional(), requester: IdentitySchema.optional(),
  startProof: ProofSchema.optional(), cancel: CancelSchema.optional(),
});

/** A run as a long-running operation (service/operation.ts). */
export const OperationSchema = z.object({
  name: z.string(), done: z.boolean(), run: RunSummarySchema, requester: IdentitySchema.optional(),
  chat: z.object({ kind: z.enum(['slack', 'matrix']), room: z.string(), thread: z.string() }).optional(), progress: ProgressSchema.optional(),
  error: z.object({ type: z.string(), message: z.string(), end: z.enum(['undone', 'safe point']).optional() }).optional(), response: z.unknown().optional(),
  transfer: z.object({ activity: z.string(), bytes: z.number(), totalBytes: z.number(), rateBytesPerSec: z.number().optional(), etaSeconds: z.number().optional() }).optional(),
});

/** The cluster as one read (activities/etcd/reads.ts ClusterState; with the control plane's view, domain/kubeSync.ts KubeState). Member ids are uint64 as decimal strings. */
/** One check of `doctor` on one node: verdict ok, warn or fail, what was found, and the fix. */
export const DoctorRowSchema = z.strictObject({ node: z.string(), check: z.string(), verdict: z.enum(['ok', 'warn', 'fail']), found: z.string(), fix: z.string().optional() });

export const ClusterStatusSchema = z.looseObject({
  control: z.string(), clusterId: z.string(), leader: z.string().optional(),
  members: z.array(z.looseObject({ id: z.string(), name: z.string(), peerURLs: z.array(z.string()), clientURLs: z.array(z.string()), isLearner: z.boolean(), healthy: z.boolean(), isLeader: z.boolean(), error: z.string().optional() })),
  kube: z.looseObject({ enabled: z.boolean(), desired: z.array(z.string()) }).optional(),
  foreign: z.array(z.looseObject({ endpoint: z.string(), node: z.string().optional(), clusterId: z.string(), memberId: z.string(), members: z.array(z.string()), reason: z.string() })).optional()
    .describe('inventory client URLs serving another cluster (domain/oneCluster.ts): left out of reads and writes; runbooks refuse until fixed'),
});

/** domain/watch.ts Proposal and Report, as workflows/watchCluster.ts keeps them (times in ms since the epoch). */
const ProposalSchema = z.object({
  id: z.string(), key: z.string(), runbook: z.string(), fields: z.record(z.string(), z.unknown()), evidence: z.string(),
  since: z.number(), openedAt: z.number(), status: z.enum(['open', 'resolved']), closedAt: z.number().optional(),
  accepted: z.object({ by: z.string(), runId: z.string(), workflow: z.string(), state: z.string() }).optional()
    .describe('who accepted it and the run it started, while that run is the cluster\'s newest'),
});
const ReportSchema = z.object({ key: z.string(), evidence: z.string(), since: z.number(), openedAt: z.number(), status: z.enum(['open', 'resolved']), closedAt: z.number().optional() });

/** domain/watch.ts WatchedMember: one member's node as the last probe judged it (sizes in bytes; member IDs hex). */
const WatchedMemberSchema = z.object({
  node: z.string(), learner: z.boolean(), etcd: z.enum(['serving', 'listening', 'isolated', 'silent']), ssh: z.boolean(), raftIndex: z.number().optional(), foreign: z.boolean().optional(),
  memberId: z.string().optional(), leader: z.string().optional(), version: z.string().optional(),
  db: z.object({ size: z.number(), inUse: z.number(), quota: z.number().optional() }).optional(),
  facts: z.object({
    at: z.number(), certs: z.array(z.object({ role: z.enum(['ca', 'server', 'peer', 'client']), notAfter: z.number() })),
    dataDirFree: z.number().optional(), clock: z.object({ offsetMs: z.number(), errorMs: z.number() }).optional(),
  }).optional().describe('the node\'s certificates (expiry, ms since the epoch), data dir free bytes and clock offset, read at most every 5 minutes'),
});

/** service/runs.ts ProposalsView: what the cluster's watch proposes and reports. */
export const ProposalsSchema = z.object({
  watching: z.boolean(), cluster: z.string(), proposals: z.array(ProposalSchema), reports: z.array(ReportSchema),
  intervalSeconds: z.number().optional(), probes: z.number().optional(), failedProbes: z.number().optional(), lastProbeAt: z.number().optional(), lastError: z.string().optional(),
  last: z.object({
    at: z.number(), members: z.array(WatchedMemberSchema), spare: z.array(z.string()), alarms: z.object({ noSpace: z.array(z.string()), corrupt: z.array(z.string()) }),
    running: z.object({ workflow: z.string(), since: z.number() }).optional().describe('a runbook run going on the cluster: new proposals are held until it ends'),
    recovery: z.object({ objectiveHours: z.number(), takenAt: z.number().optional(), drillFailed: z.object({ at: z.number(), message: z.string() }).optional() }).optional()
      .describe('the recovery point against the inventory\'s objective'),
    kubeDrift: z.array(z.string()).optional().describe('the control plane\'s drift from the voting members (as status shows it), when the inventory names control planes'),
  }).optional()
    .describe('the last probe that read the cluster (domain/watch.ts WatchProbe)'),
  leader: z.string().optional().describe('the leader\'s member ID (hex) the watch last saw'),
});

/** service/recoveryPoint.ts RecoveryPoint: the newest backup that passed a restore drill; `failed`: the newest drill failed after it (the alert). */
export const RecoveryPointSchema = z.object({
  passed: z.object({ backup: z.string(), takenAt: z.string().optional(), drilledAt: z.string(), ageSeconds: z.number().optional() }).optional(),
  failed: z.object({ drilledAt: z.string(), message: z.string() }).optional(),
});

export const ApprovalRecordSchema = ApprovalSchema;
export const RejectionRecordSchema = RejectionSchema;
export const RunbookListSchema = z.array(z.object({ name: z.string(), workflow: z.string(), summary: z.string(), path: z.string() }));
export const WhoAmISchema = z.object({ principal: z.string(), method: z.string(), channel: z.string(), roles: z.array(z.string()) });

/** Named schemas: the OpenAPI document refers to them as components (api/server.ts). */
export const apiSchemas = z.registry<{ id: string }>();
apiSchemas.add(ErrorSchema, { id: 'Error' });
apiSchemas.add(RunSummarySchema, { id: 'RunSummary' });
apiSchemas.add(ProgressSchema, { id: 'Progress' });
apiSchemas.add(OperationSchema, { id: 'Operation' });
apiSchemas.add(ApprovalSchema, { id: 'ApprovalRecord' });
apiSchemas.add(RejectionSchema, { id: 'RejectionRecord' });
apiSchemas.add(IdentitySchema, { id: 'Identity' });
apiSchemas.add(ProofSchema, { id: 'DecisionProof' });
apiSchemas.add(RecoveryPointSchema, { id: 'RecoveryPoint' });
apiSchemas.add(ClusterStatusSchema, { id: 'ClusterStatus' });
