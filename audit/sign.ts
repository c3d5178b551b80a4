import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, createHash, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A detached signature of an audit record (`<record>.sig`, JSON). */
export interface DetachedSignature {
  algorithm: 'ed25519';
  /** SHA-256 (hex) of the signer's public key in SPKI DER form: which key to verify with. */
  keyId: string;
  /** Ed25519 signature of the record's bytes, base64. */
  signature: string;
}

/** SHA-256 (hex) of a public key's SPKI DER encoding. */
export function keyId(pub: KeyObject): string {
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex');
}

/**
 * The worker host's Ed25519 signing key from `path` (PKCS#8 PEM). When the file does not exist
 * and `auditDir` holds no record yet (a first start), it is created (mode 0600) with a new key and
 * its public key written beside it as `<path>.pub` (SPKI PEM). When records exist, a missing key
 * is an error, never silently replaced: a new key would make the records' chain end unverifiable
 * with the old one (restore the key, or rotate on purpose: docs/operations.md, "Audit records"). The head-node
 * install makes the key itself (keys init: /etc/etcd-runbooks/keys/audit.pem, public half pinned
 * at /etc/etcd-runbooks/audit-signing.pub).
 */
export function loadOrCreateSigningKey(path: string, auditDir?: string): KeyObject {
  if (!existsSync(path)) {
    const records = auditDir ? join(auditDir, 'records') : undefined;
    if (records && existsSync(records) && readdirSync(records, { withFileTypes: true }).some((d) => d.isDirectory() && readdirSync(join(records, d.name)).some((f) => f.endsWith('.jsonl')))) {
      throw new Error(`the audit signing key ${path} is missing but ${records} holds signed records: restore the key (or rotate it on purpose), it is not made anew`);
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    writeFileSync(`${path}.pub`, publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${path}: not an Ed25519 private key`);
  return key;
}

/** Signs `data` (the whole record file) with an Ed25519 private key. */
export function signDetached(data: Buffer | string, key: KeyObject): DetachedSignature {
  const signature = sign(null, Buffer.from(data), key).toString('base64');
  return { algorithm: 'ed25519', keyId: keyId(createPublicKey(key)), signature };
}

/** Whether `sig` is a valid signature of `data` by `pub`; a key whose id differs is reported as such. */
export function verifyDetached(data: Buffer | string, sig: DetachedSignature, pub: KeyObject): { ok: true } | { ok: false; reason: string } {
  if (sig.algorithm !== 'ed25519') return { ok: false, reason: `unknown algorithm ${String(sig.algorithm)}` };
  if (sig.keyId !== keyId(pub)) return { ok: false, reason: `signed by key ${sig.keyId.slice(0, 16)}…, not by the key given (${keyId(pub).slice(0, 16)}…)` };
  return verify(null, Buffer.from(data), pub, Buffer.from(sig.signature, 'base64')) ? { ok: true } : { ok: false, reason: 'the signature does not match the record: the file was changed after it was signed' };
}
