import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { lock } from 'proper-lockfile';
import { verifyChain } from './chain';
import { signDetached, verifyDetached, type DetachedSignature } from './sign';
import { writeAtomically } from './files';

/**
 * One chain of audit records per cluster, across runs. Each record carries a `chain` event: its
 * sequence number in the cluster and the SHA-256 of the record before it (file bytes). The newest
 * is named by `HEAD.json` beside the records, signed with the audit key. So a deleted record
 * leaves a gap (or a predecessor hash nobody has), a reordered or replaced one breaks the next
 * one's hash, and a deleted newest record no longer matches the signed head (or the head copied
 * off the host). Written crash-safely: `HEAD.next.json` says which record is being written; the
 * next write finishes or discards it.
 */

/** The `chain` event of a record: its place in the cluster's chain. */
export interface ChainLink { type: 'chain'; cluster: string; clusterSeq: number; prevRecord: { file: string; sha256: string } | null }

/** What HEAD.json names: the newest record of the cluster. */
export interface ChainHead { cluster: string; seq: number; file: string; sha256: string; at: string }

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');


/** The cluster's signed head, or undefined when it has no chained record yet. Throws when HEAD.json is not JSON. */
export function readHead(clusterDir: string): { head: ChainHead; signature: DetachedSignature } | undefined {
  const f = join(clusterDir, 'HEAD.json');
  if (!existsSync(f)) return undefined;
  return JSON.parse(readFileSync(f, 'utf8')) as { head: ChainHead; signature: DetachedSignature };
}

function writeHead(clusterDir: string, key: KeyObject, head: ChainHead): void {
  writeAtomically(join(clusterDir, 'HEAD.json'), `${JSON.stringify({ head, signature: signDetached(JSON.stringify(head), key) })}\n`);
}

/**
 * Finishes or discards a write a crash interrupted (HEAD.next.json left behind): a record whose
 * signature was written becomes the head; a partial one is removed.
 */
function recover(clusterDir: string, key: KeyObject, cluster: string): void {
  const nextFile = join(clusterDir, 'HEAD.next.json');
  if (!existsSync(nextFile)) return;
  const next = JSON.parse(readFileSync(nextFile, 'utf8')) as { seq: number; file: string };
  const jsonl = join(clusterDir, next.file);
  if (existsSync(jsonl) && existsSync(`${jsonl}.sig`)) {
    writeHead(clusterDir, key, { cluster, seq: next.seq, file: next.file, sha256: sha256(readFileSync(jsonl)), at: new Date().toISOString() });
  } else {
    for (const f of [jsonl, `${jsonl}.sig`, jsonl.replace(/\.jsonl$/, '.md')]) rmSync(f, { force: true });
  }
  rmSync(nextFile, { force: true });
}

/**
 * Writes one record into the cluster's chain: `write(link)` must write the record file `file`
 * (with the link among its events) and its signature. Returns the link it was given. Holds the
 * cluster's chain lock (proper-lockfile, `.chain.lock`) meanwhile: two workers sharing an audit
 * dir would otherwise give two records one place, or one would take the other's half-written
 * record for a crash's leftover and remove it. A lock whose holder died is taken over after 10 s.
 */
export async function appendToChain(clusterDir: string, key: KeyObject, cluster: string, file: string, write: (link: ChainLink) => void): Promise<ChainLink> {
  const release = await lock(clusterDir, { lockfilePath: join(clusterDir, '.chain.lock'), realpath: false, stale: 10_000, retries: { retries: 100, minTimeout: 20, maxTimeout: 250 } });
  try {
    return appendLocked(clusterDir, key, cluster, file, write);
  } finally {
    await release();
  }
}

function appendLocked(clusterDir: string, key: KeyObject, cluster: string, file: string, write: (link: ChainLink) => void): ChainLink {
  recover(clusterDir, key, cluster);
  const current = readHead(clusterDir)?.head;
  const link: ChainLink = { type: 'chain', cluster, clusterSeq: (current?.seq ?? 0) + 1, prevRecord: current ? { file: current.file, sha256: current.sha256 } : null };
  writeAtomically(join(clusterDir, 'HEAD.next.json'), JSON.stringify({ seq: link.clusterSeq, file }));
  write(link);
  writeHead(clusterDir, key, { cluster, seq: link.clusterSeq, file, sha256: sha256(readFileSync(join(clusterDir, file))), at: new Date().toISOString() });
  rmSync(join(clusterDir, 'HEAD.next.json'), { force: true });
  return link;
}

/** What `audit verify --cluster` found. */
export interface ClusterChainCheck {
  ok: boolean;
  records: number;
  /** Records written before chains existed (no `chain` event): listed, not ordered. */
  unchained: string[];
  problems: string[];
}

/**
 * Checks a cluster's chain: every record's own hash chain and signature (verifyRecord), sequence
 * numbers 1..N with none missing or repeated, each record's `prev` equal to the SHA-256 of the
 * record before it, and the signed head naming record N with its hash; with `offHostHead` (the
 * copy kept elsewhere), that it is not ahead of this one. `keys`: the pinned public keys (PEM) of
 * the audit signer, old ones included after a rotation.
 */
export function verifyClusterChain(clusterDir: string, keys: string[], verifyRecord: (file: string, pubPem: string) => { ok: boolean; problem?: string; keyId?: string }, offHostHead?: ChainHead): ClusterChainCheck {
  const problems: string[] = [];
  const unchained: string[] = [];
  const bySeq = new Map<number, { file: string; link: ChainLink }>();
  const files = existsSync(clusterDir) ? readdirSync(clusterDir).filter((f) => f.endsWith('.jsonl')).sort() : [];
  const checkWithAny = (file: string) => {
    const results = keys.map((k) => verifyRecord(file, k));
    return results.find((r) => r.ok) ?? results[0] ?? { ok: false, problem: 'no public key given' };
  };
  for (const f of files) {
    const path = join(clusterDir, f);
    const r = checkWithAny(path);
    if (!r.ok) problems.push(`${f}: ${r.problem}`);
    const chain = verifyChain(readFileSync(path, 'utf8'));
    const link = chain.ok ? chain.events.find((e) => e.type === 'chain') as unknown as ChainLink | undefined : undefined;
    if (!link) { unchained.push(f); continue; }
    if (bySeq.has(link.clusterSeq)) problems.push(`${f} and ${bySeq.get(link.clusterSeq)!.file} both claim place ${link.clusterSeq}`);
    bySeq.set(link.clusterSeq, { file: f, link });
  }
  const n = Math.max(0, ...bySeq.keys());
  for (let seq = 1; seq <= n; seq++) {
    const cur = bySeq.get(seq);
    if (!cur) { problems.push(`record ${seq} of the chain is missing (deleted?)`); continue; }
    const before = bySeq.get(seq - 1);
    if (seq === 1 && cur.link.prevRecord !== null) problems.push(`${cur.file}: first record names a predecessor ${cur.link.prevRecord.file}, which is missing (deleted?)`);
    if (seq > 1 && before && (cur.link.prevRecord?.file !== before.file || cur.link.prevRecord?.sha256 !== sha256(readFileSync(join(clusterDir, before.file))))) {
      problems.push(`${cur.file}: its predecessor is not ${before.file} as it stands (replaced or edited)`);
    }
  }
  let signed: ReturnType<typeof readHead>;
  try { signed = readHead(clusterDir); } catch { problems.push('HEAD.json is not readable'); }
  if (!signed && n > 0) problems.push('HEAD.json is missing');
  if (signed) {
    const okSig = keys.some((k) => verifyDetached(JSON.stringify(signed!.head), signed!.signature, createPublicKey(k)).ok);
    if (!okSig) problems.push('HEAD.json: signature does not verify with the key(s) given');
    const h = signed.head;
    const newest = bySeq.get(h.seq);
    if (h.seq !== n) problems.push(`HEAD.json names record ${h.seq} but the newest record here is ${n} (${h.seq > n ? 'newest records deleted?' : 'a record not in the head?'})`);
    else if (!newest || newest.file !== h.file || sha256(readFileSync(join(clusterDir, newest.file))) !== h.sha256) problems.push(`HEAD.json names ${h.file} with another hash than the newest record here`);
  }
  if (offHostHead && offHostHead.seq > n) problems.push(`the off-host head names record ${offHostHead.seq} (${offHostHead.file}), newer than any here: records deleted`);
  else if (offHostHead) {
    const at = bySeq.get(offHostHead.seq);
    if (at && (at.file !== offHostHead.file || sha256(readFileSync(join(clusterDir, at.file))) !== offHostHead.sha256)) {
      problems.push(`the off-host head names ${offHostHead.file} as record ${offHostHead.seq}, but here that place holds ${at.file === offHostHead.file ? 'another version of it' : at.file}: records replaced`);
    }
  }
  return { ok: problems.length === 0, records: bySeq.size + unchained.length, unchained: unchained.map((f) => basename(f)), problems };
}
