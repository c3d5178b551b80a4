import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { inputDigest } from '../../domain/decision';
import type { Actor, Identity } from '../../domain/identity';
import { loadSigner, loadTrust, trustFileText } from '../../config/trust';
import { DecisionSigner } from '../../service/signer';
import { approveUpdate, cancelUpdate, rejectUpdate } from '../../workflows';

const REPO = join(__dirname, '..', '..');

/**
 * The tests' front end: a signing key and a trust file naming it for every channel, made once per
 * `npm test` (globalSetup) in a root-owned directory, as the install makes them, and handed to
 * every test process, worker and CLI through ETCD_RUNBOOKS_SIGNING_KEY and ETCD_RUNBOOKS_TRUST.
 */
export function makeTestAuthority(dir = join(REPO, '.state', 'test-authority')): { keyFile: string; trustFile: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const keyFile = join(dir, 'front-end.pem');
  const trustFile = join(dir, 'trust.yaml');
  if (!existsSync(keyFile) || !existsSync(trustFile)) {
    const { signer, pem } = DecisionSigner.generate();
    writeFileSync(keyFile, pem, { mode: 0o600 });
    writeFileSync(trustFile, trustFileText([{ publicKey: signer.publicKey, channels: ['cli', 'api', 'slack', 'matrix'], comment: 'test front end' }]), { mode: 0o644 });
  }
  process.env.ETCD_RUNBOOKS_SIGNING_KEY = keyFile;
  process.env.ETCD_RUNBOOKS_TRUST = trustFile;
  return { keyFile, trustFile };
}

/** Who the tests' decisions name unless a test says otherwise: an admin through the API. */
export const E2E_ACTOR: Actor = { principal: 'e2e', method: 'token', channel: 'api', roles: ['admin'] };

const signer = () => loadSigner('api');

/**
 * A runbook input as the service would start it: the control fields a test wrote the old way
 * (`approvedBy`, `requester`, `fourEyes`) become the signed start decision's claims, and the
 * decision and the trusted keys are added. Four-eyes is off unless the input asks for it.
 */
export function signedInput(workflowName: string, workflowId: string, raw: Record<string, unknown>): Record<string, unknown> {
  const { approvedBy, requester, fourEyes, ...fields } = raw as { approvedBy?: string; requester?: Identity; fourEyes?: boolean } & Record<string, unknown>;
  const actor: Actor = requester ? { ...requester, roles: ['operator', 'approver'] } : approvedBy ? { ...E2E_ACTOR, principal: approvedBy } : E2E_ACTOR;
  const authority = signer().sign(actor, {
    action: 'start', workflowId, runbook: workflowName, cluster: String(fields.cluster), fourEyes: Boolean(fourEyes), approvedUpFront: approvedBy !== undefined, input: inputDigest(fields),
  });
  return { ...fields, authority, trust: loadTrust().trust };
}

/** Approves `step` on a run as `actor`, signed by the tests' front end. */
export async function approveAs(h: WorkflowHandle, step: string, actor: Partial<Actor> = {}) {
  return h.executeUpdate(approveUpdate, { args: [{ step, decision: await decisionOn(h, 'approve', { ...E2E_ACTOR, ...actor }, { step }) }] });
}

/** Rejects `step` on a run as `actor` with `reason`. */
export async function rejectAs(h: WorkflowHandle, step: string, reason: string, actor: Partial<Actor> = {}) {
  return h.executeUpdate(rejectUpdate, { args: [{ step, decision: await decisionOn(h, 'reject', { ...E2E_ACTOR, ...actor }, { step, reason }) }] });
}

/** Cancels a run as `actor` (a signed `cancel` update; a Temporal cancel request does not reach a signed run). */
export async function cancelAs(h: WorkflowHandle, reason = 'cancelled by the test', actor: Partial<Actor> = {}) {
  return h.executeUpdate(cancelUpdate, { args: [{ decision: await decisionOn(h, 'cancel', { ...E2E_ACTOR, ...actor }, { reason }) }] });
}

/** A decision on the handle's run, as the service would sign it (run id, runbook and cluster read from the run). */
export async function decisionOn(h: WorkflowHandle, action: 'approve' | 'reject' | 'cancel', actor: Actor, extra: { step?: string; reason?: string }) {
  const desc = await h.describe();
  const started = (await h.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const input = started ? defaultPayloadConverter.fromPayload<{ cluster?: string }>(started as never) : {};
  return signer().sign(actor, { action, workflowId: desc.workflowId, runId: desc.runId, runbook: desc.type, cluster: String(input?.cluster), ...extra });
}
