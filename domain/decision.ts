import { ed25519 } from '@noble/curves/ed25519';
import { hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import { z } from 'zod';
import { digestOf, sha256Hex } from './canonical';
import { IdentitySchema, RoleSchema, type Actor } from './identity';

/**
 * Signed decisions: what a front end (CLI service, HTTP API, Slack or Matrix bridge) asserts
 * after it authenticated a person, and what a workflow acts on. A workflow believes no identity,
 * role or control field (requester, approver, four-eyes, up-front approval) that a start or an
 * update merely carries: it verifies the front end's Ed25519 signature against the public keys
 * the run was started with (`trust`, pinned from root-owned configuration and checked by every
 * activity against the worker's own copy), the run it is for, the step, the expiry and the nonce.
 * Verification is pure JS (@noble/curves, audited), so it runs in the workflow sandbox, inside
 * update validators, with no I/O.
 */

const Hex = (bytes: number, what: string) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `must be ${bytes} bytes as lowercase hex (${what})`);

/** What a decision asks a run to do. */
export const DecisionActionSchema = z.enum(['start', 'approve', 'reject', 'cancel']);
export type DecisionAction = z.infer<typeof DecisionActionSchema>;

/** Longest a decision may be valid (ms): a captured one is worthless soon after. Scheduled starts are the exception (DecisionClaims.scheduled). */
export const DECISION_MAX_TTL_MS = 10 * 60_000;
/** Clock skew tolerated between a front end and the workflow's clock (ms). */
export const DECISION_SKEW_MS = 60_000;
/** Runbooks a schedule may start with a long-lived decision: they change no membership and no data. */
export const SCHEDULABLE_RUNBOOKS: readonly string[] = ['backupCluster', 'drillRestore'];

/**
 * The claims a front end signs. Times are Unix milliseconds. `runId` is required for decisions on
 * a running run (approve, reject, cancel); `step` for approve and reject. A start carries the
 * control fields the workflow then uses: `fourEyes` (from the root-owned access file),
 * `approvedUpFront` (`--yes`, only for an approver and never under four-eyes) and `input`, the
 * digest of the runbook's own fields (domain/canonical.ts), so the decision cannot be reused with
 * other arguments. `scheduled`: a start a Temporal schedule repeats (backup, drill only): valid
 * for every run the schedule `workflowId` starts until `exp`.
 */
export const DecisionClaimsSchema = z.strictObject({
  v: z.literal(1),
  action: DecisionActionSchema,
  workflowId: z.string().min(1).max(400),
  runId: z.string().min(1).max(100).optional(),
  runbook: z.string().regex(/^[a-zA-Z]{1,64}$/),
  cluster: z.string().min(1).max(63),
  step: z.string().min(1).max(200).optional(),
  reason: z.string().min(1).max(500).optional(),
  principal: IdentitySchema.shape.principal,
  method: IdentitySchema.shape.method,
  channel: IdentitySchema.shape.channel,
  roles: z.array(RoleSchema).max(4),
  fourEyes: z.boolean().optional(),
  approvedUpFront: z.boolean().optional(),
  input: Hex(32, 'SHA-256 of the runbook fields').optional(),
  scheduled: z.boolean().optional(),
  iat: z.number().int().positive(),
  exp: z.number().int().positive(),
  nonce: Hex(16, 'random'),
});
export type DecisionClaims = z.infer<typeof DecisionClaimsSchema>;

/** A decision as it travels: the exact JSON text that was signed, the signer's key id and the signature. */
export const SignedDecisionSchema = z.strictObject({
  claims: z.string().min(2).max(4096),
  keyId: Hex(32, 'SHA-256 of the public key'),
  signature: Hex(64, 'Ed25519 signature'),
});
export type SignedDecision = z.infer<typeof SignedDecisionSchema>;

/**
 * The front ends' public keys a run trusts, and the channels each may sign for (a Slack bridge's
 * key cannot sign an API decision). Pinned in a run's input from the root-owned trust file
 * (config/trust.ts); `id` is keyIdOf(publicKey).
 */
export const TrustSchema = z.strictObject({
  keys: z.array(z.strictObject({
    id: Hex(32, 'SHA-256 of the public key'),
    publicKey: Hex(32, 'raw Ed25519 public key'),
    channels: z.array(IdentitySchema.shape.channel).min(1).max(4),
  })).min(1).max(16),
});
export type Trust = z.infer<typeof TrustSchema>;

/** A key's id: SHA-256 (hex) of its raw 32-byte Ed25519 public key, given as hex. */
export function keyIdOf(publicKeyHex: string): string {
  return sha256Hex(publicKeyHex);
}

/** The digest a run's activities compare with their worker's trust file (activities/wrap.ts). */
export function trustDigest(trust: Trust): string {
  return digestOf(trust);
}

/** Fields of a runbook input that no caller sets: the signed decision and the keys it is checked with. */
export const AUTHORITY_FIELDS = ['authority', 'trust'] as const;

/** Digest of a runbook's input without its authority fields: what a start decision's `input` claims. */
export function inputDigest(input: Record<string, unknown>): string {
  const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !(AUTHORITY_FIELDS as readonly string[]).includes(k)));
  return digestOf(rest);
}

/** What a decision must be for: the run (and step) it acts on, at time `now` (ms, the workflow's clock). */
export interface DecisionExpectation {
  action: DecisionAction;
  workflowId: string;
  /** Required for approve, reject, cancel. */
  runId?: string;
  runbook: string;
  cluster: string;
  step?: string;
  now: number;
  /** Nonces this run has already acted on. */
  used?: ReadonlySet<string>;
}

/** Why a decision is refused; the message names the check that failed. */
export class DecisionRefused extends Error {
  override readonly name = 'DecisionRefused';
}

/**
 * Verifies `signed` against `trust` and `expect`; returns its claims, or throws DecisionRefused
 * naming the first check that failed: malformed, unknown key, bad signature, channel the key may
 * not sign for, another action, run, step, runbook or cluster, issued in the future, expired or
 * valid for too long, nonce already used. Pure: no I/O, no clock but `expect.now`.
 */
export function verifyDecision(signed: unknown, trust: Trust, expect: DecisionExpectation): DecisionClaims {
  const s = SignedDecisionSchema.safeParse(signed);
  if (!s.success) throw new DecisionRefused(`decision: not a signed decision (${s.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')})`);
  const key = trust.keys.find((k) => k.id === s.data.keyId);
  if (!key) throw new DecisionRefused(`decision: signed by key ${s.data.keyId.slice(0, 16)}…, which this run does not trust`);
  let valid = false;
  try {
    valid = ed25519.verify(hexToBytes(s.data.signature), utf8ToBytes(s.data.claims), hexToBytes(key.publicKey));
  } catch {
    valid = false;
  }
  if (!valid) throw new DecisionRefused('decision: the signature does not match its claims');
  let raw: unknown;
  try { raw = JSON.parse(s.data.claims); } catch { throw new DecisionRefused('decision: claims are not JSON'); }
  const c = DecisionClaimsSchema.safeParse(raw);
  if (!c.success) throw new DecisionRefused(`decision: claims ${c.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
  const d = c.data;
  if (!key.channels.includes(d.channel)) throw new DecisionRefused(`decision: key ${key.id.slice(0, 16)}… may not sign for channel ${d.channel}`);
  if (d.action !== expect.action) throw new DecisionRefused(`decision: it is a ${d.action} decision, not ${expect.action}`);
  if (d.runbook !== expect.runbook || d.cluster !== expect.cluster) throw new DecisionRefused(`decision: it is for ${d.runbook} on ${d.cluster}, not ${expect.runbook} on ${expect.cluster}`);
  const scheduled = d.action === 'start' && d.scheduled === true;
  if (scheduled) {
    if (!SCHEDULABLE_RUNBOOKS.includes(d.runbook)) throw new DecisionRefused(`decision: ${d.runbook} may not be started by a schedule`);
    if (!expect.workflowId.startsWith(`${d.workflowId}-`)) throw new DecisionRefused(`decision: it is for runs of schedule ${d.workflowId}, not workflow ${expect.workflowId}`);
  } else if (d.workflowId !== expect.workflowId) {
    throw new DecisionRefused(`decision: it is for workflow ${d.workflowId}, not ${expect.workflowId}`);
  }
  if (expect.action !== 'start' && d.runId !== expect.runId) throw new DecisionRefused(`decision: it is for run ${d.runId ?? '(none)'}, not ${expect.runId}`);
  if ((expect.action === 'approve' || expect.action === 'reject') && d.step !== expect.step) throw new DecisionRefused(`decision: it is for step ${d.step ?? '(none)'}, not ${expect.step}`);
  if (d.iat > expect.now + DECISION_SKEW_MS) throw new DecisionRefused(`decision: issued in the future (${new Date(d.iat).toISOString()})`);
  if (d.exp <= expect.now - DECISION_SKEW_MS) throw new DecisionRefused(`decision: expired at ${new Date(d.exp).toISOString()}`);
  if (!scheduled && d.exp - d.iat > DECISION_MAX_TTL_MS) throw new DecisionRefused(`decision: valid for ${Math.round((d.exp - d.iat) / 1000)} s, more than ${DECISION_MAX_TTL_MS / 1000} s`);
  if (expect.used?.has(d.nonce)) throw new DecisionRefused('decision: already used (replayed nonce)');
  return d;
}

/** The actor a verified decision names: principal, method, channel and roles as the front end proved them. */
export function actorOf(d: DecisionClaims): Actor {
  return { principal: d.principal, method: d.method, channel: d.channel, roles: d.roles };
}

/** The part of a verified decision kept in progress and audit records: who signed, when, which nonce (claims stay in history). */
export interface DecisionProof { keyId: string; nonce: string; iat: string; method: string; channel: string }

export function proofOf(signed: SignedDecision, d: DecisionClaims): DecisionProof {
  return { keyId: signed.keyId, nonce: d.nonce, iat: new Date(d.iat).toISOString(), method: d.method, channel: d.channel };
}
