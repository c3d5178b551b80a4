import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditSettings } from '../../config/audit';
import { renderMarkdown } from '../../audit/render';
import { verifyRecordFile } from '../../audit/store';
import { createPublicKey } from 'node:crypto';
import { verifyClusterChain } from '../../audit/clusterChain';
import { offHostHead } from '../../audit/offHost';
import { verifyDetached } from '../../audit/sign';
import { pathSegment } from '../../audit/paths';
import { cliActorWith } from '../service';

/** The pinned audit public key the install writes (root-owned; keys init). */
export const PINNED_AUDIT_KEY = '/etc/etcd-runbooks/audit-signing.pub';

/**
 * `--public-key`, else the pinned key PINNED_AUDIT_KEY, else the `.pub` beside the worker's
 * signing key (config/audit.ts; whoever can write the audit dir can replace that one, so say so).
 */
function publicKeyPem(path?: string): string {
  const p = path ?? (existsSync(PINNED_AUDIT_KEY) ? PINNED_AUDIT_KEY : `${auditSettings().keyFile}.pub`);
  if (!existsSync(p)) throw new Error(`no public key at ${p}; give --public-key (the audit signer's public key)`);
  if (!path && p !== PINNED_AUDIT_KEY) console.error(`note: verifying with ${p}, which lives beside the records; pin a copy you keep (${PINNED_AUDIT_KEY} or --public-key)`);
  return readFileSync(p, 'utf8');
}

/**
 * `audit verify --cluster NAME`: the cluster's whole chain of records (clusterChain.ts): each
 * record, no gap, each predecessor hash, the signed head, and with `--head FILE` a head copied off
 * the host. Prints `ok` with the count, or every problem. Exit code 0 only when all hold.
 */
export async function auditVerifyClusterCommand(cluster: string, o: { publicKey?: string[]; head?: string }, out = console.log): Promise<number> {
  cliActorWith('viewer', 'verify audit records');
  const keys = (o.publicKey?.length ? o.publicKey : [undefined]).map((k) => publicKeyPem(k));
  const offHost = o.head ? offHostHead(readFileSync(o.head, 'utf8')) : undefined;
  const check = verifyClusterChain(join(auditSettings().dir, 'records', pathSegment(cluster)), keys, verifyRecordFile, offHost?.head);
  // The off-host copy is checked like the local head: a forged line there is reported, not believed.
  if (offHost && !keys.some((k) => verifyDetached(JSON.stringify(offHost.head), offHost.signature, createPublicKey(k)).ok)) {
    check.problems.push(`${o.head}: the off-host head's signature does not verify with the key(s) given`);
    check.ok = false;
  }
  for (const p of check.problems) out(`FAILED: ${p}`);
  if (check.unchained.length) out(`note: ${check.unchained.length} record(s) from before per-cluster chains, checked one by one: ${check.unchained.join(', ')}`);
  if (!check.ok) return 1;
  out(`ok: ${check.records} records of cluster ${cluster}, chain complete up to the signed head`);
  return 0;
}

/** A record file, or the record of a run id (or workflowId_runId) under the audit dir's records/. */
export function findRecord(ref: string, dir = auditSettings().dir): string {
  if (existsSync(ref)) return ref;
  const root = join(dir, 'records');
  const hits = existsSync(root) ? readdirSync(root).flatMap((c) => readdirSync(join(root, c)).filter((f) => f.endsWith('.jsonl') && f.slice(0, -6).endsWith(ref)).map((f) => join(root, c, f))) : [];
  if (hits.length !== 1) throw new Error(hits.length ? `${ref} matches ${hits.length} records: ${hits.join(', ')}` : `no audit record for ${ref} under ${root}`);
  return hits[0];
}

/**
 * `audit verify FILE`: checks the hash chain and the detached signature. Prints `ok` with the
 * event count and key id, or the first problem. Exit code 0 only when both hold.
 */
export async function auditVerifyCommand(file: string, o: { publicKey?: string }): Promise<number> {
  cliActorWith('viewer', 'verify audit records');
  const check = verifyRecordFile(findRecord(file), publicKeyPem(o.publicKey));
  if (!check.ok) {
    console.log(`FAILED: ${check.problem}`);
    return 1;
  }
  console.log(`ok: ${check.events.length} events, hash chain intact, signed by key ${check.keyId}`);
  return 0;
}

/** `audit show RUN`: verifies the record, then prints it as Markdown. Exit code 1 when it does not verify. */
export async function auditShowCommand(ref: string, o: { publicKey?: string }): Promise<number> {
  cliActorWith('viewer', 'read audit records');
  const check = verifyRecordFile(findRecord(ref), publicKeyPem(o.publicKey));
  if (!check.ok) {
    console.log(`FAILED to verify: ${check.problem}`);
    return 1;
  }
  console.log(renderMarkdown(check.events, { keyId: check.keyId }));
  return 0;
}
