import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { basename, join } from 'node:path';
import { appendToChain } from './clusterChain';
import { pathSegment } from './paths';
import { chainEvents, verifyChain, type ChainedEvent } from './chain';
import type { AuditEvent } from './record';
import { renderMarkdown } from './render';
import { signDetached, verifyDetached, type DetachedSignature } from './sign';
import { writeAtomically } from './files';

/** The files of one run's audit record: `<dir>/records/<cluster>/<workflowId>_<runId>.jsonl`, `.jsonl.sig`, `.md`. */
export function recordPaths(dir: string, cluster: string, workflowId: string, runId: string) {
  const base = join(dir, 'records', pathSegment(cluster), `${pathSegment(workflowId)}_${pathSegment(runId)}`);
  return { jsonl: `${base}.jsonl`, sig: `${base}.jsonl.sig`, md: `${base}.md` };
}

/** Whether a signed record of this run exists under `dir`, for any cluster. */
export function recordExists(dir: string, workflowId: string, runId: string): boolean {
  const root = join(dir, 'records');
  if (!existsSync(root)) return false;
  const name = `${pathSegment(workflowId)}_${pathSegment(runId)}.jsonl.sig`;
  return readdirSync(root, { withFileTypes: true }).some((d) => d.isDirectory() && existsSync(join(root, d.name, name)));
}


/**
 * Writes a run's record: the hash-chained JSON Lines, its detached Ed25519 signature, and the
 * Markdown rendering, each written to a temporary file and renamed (a power cut leaves either the
 * old state or the whole file), as the next link of the cluster's chain (clusterChain.ts: its
 * `chain` event names its place and predecessor; HEAD.json moves to it). Already written (record
 * and signature present) -> untouched.
 * Returns the record's path and whether it was written now.
 */
export async function writeRecord(dir: string, key: KeyObject, cluster: string, workflowId: string, runId: string, events: AuditEvent[]): Promise<{ path: string; written: boolean }> {
  const p = recordPaths(dir, cluster, workflowId, runId);
  if (existsSync(p.jsonl) && existsSync(p.sig)) return { path: p.jsonl, written: false };
  const clusterDir = join(p.jsonl, '..');
  mkdirSync(clusterDir, { recursive: true, mode: 0o750 });
  await appendToChain(clusterDir, key, cluster, basename(p.jsonl), (link) => {
    // The chain link goes right after the run event: the record names its place and predecessor.
    const chained = [...events.slice(0, 1), link as unknown as AuditEvent, ...events.slice(1)];
    const text = chainEvents(chained);
    const sig = signDetached(text, key);
    const check = verifyChain(text);
    writeAtomically(p.jsonl, text);
    writeAtomically(p.md, renderMarkdown(check.ok ? check.events : [], sig));
    writeAtomically(p.sig, `${JSON.stringify(sig)}\n`);
  });
  return { path: p.jsonl, written: true };
}

/** What `audit verify` found: the record's events when chain and signature hold, else the first problem. */
export type RecordCheck = { ok: true; events: ChainedEvent[]; keyId: string } | { ok: false; problem: string };

/**
 * Verifies a record file: the hash chain line by line, then the detached signature `<file>.sig`
 * against the public key in `publicKeyPem` (SPKI PEM, the `.pub` beside the worker's signing key).
 */
export function verifyRecordFile(file: string, publicKeyPem: string): RecordCheck {
  const text = readFileSync(file, 'utf8');
  const chain = verifyChain(text);
  if (!chain.ok) return { ok: false, problem: `line ${chain.line}: ${chain.reason}` };
  const sigFile = `${file}.sig`;
  if (!existsSync(sigFile)) return { ok: false, problem: `no signature: ${sigFile} is missing` };
  let sig: DetachedSignature;
  try {
    sig = JSON.parse(readFileSync(sigFile, 'utf8')) as DetachedSignature;
  } catch {
    return { ok: false, problem: `${sigFile}: not a signature file` };
  }
  const v = verifyDetached(text, sig, createPublicKey(publicKeyPem));
  return v.ok ? { ok: true, events: chain.events, keyId: sig.keyId } : { ok: false, problem: `signature: ${v.reason}` };
}
