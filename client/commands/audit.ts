import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditSettings } from '../../config/audit';
import { renderMarkdown } from '../../audit/render';
import { verifyRecordFile } from '../../audit/store';
import { cliActorWith } from '../service';

/** `--public-key` or the `.pub` beside the worker's signing key (config/audit.ts). */
function publicKeyPem(path?: string): string {
  const p = path ?? `${auditSettings().keyFile}.pub`;
  if (!existsSync(p)) throw new Error(`no public key at ${p}; give --public-key (the .pub beside the worker's signing key)`);
  return readFileSync(p, 'utf8');
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
