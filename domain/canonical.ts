import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * JSON with object keys sorted at every depth and `undefined` members left out: the same value
 * gives the same text in the service (Node) and in the workflow sandbox, so a digest taken on one
 * side can be recomputed on the other. Arrays keep their order. Throws TypeError on values JSON
 * cannot hold (functions, symbols, bigint).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') throw new TypeError(`canonicalJson: a ${typeof value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 (hex) of a string's UTF-8 bytes; pure JS (@noble/hashes), so it runs in the workflow sandbox. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** SHA-256 (hex) of canonicalJson(value). */
export function digestOf(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
