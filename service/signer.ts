import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { keyIdOf, type DecisionClaims, type SignedDecision, type Trust } from '../domain/decision';
import type { Actor } from '../domain/identity';

/** How long a decision a person makes now stays valid (ms): long enough for a slow Temporal, short enough to be useless when captured. */
export const DECISION_TTL_MS = 2 * 60_000;

/** A raw Ed25519 public key as lowercase hex (the form the trust file and workflows use). */
export function rawPublicKeyHex(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url').toString('hex');
}

/** What a front end asserts: everything but the fields the signer fills (version, times, nonce, the person). */
export type DecisionRequest = Omit<DecisionClaims, 'v' | 'iat' | 'exp' | 'nonce' | 'principal' | 'method' | 'channel' | 'roles'>;

/**
 * A front end's signing key (Ed25519, PKCS#8 PEM, readable only by the service user): turns the
 * person it authenticated and what they decided into a SignedDecision (domain/decision.ts).
 * The key never leaves the front end's process; the private key is never logged or serialised.
 */
export class DecisionSigner {
  readonly keyId: string;
  readonly publicKey: string;

  constructor(private readonly key: KeyObject) {
    if (key.asymmetricKeyType !== 'ed25519' || key.type !== 'private') throw new Error('a decision signing key must be an Ed25519 private key');
    this.publicKey = rawPublicKeyHex(key);
    this.keyId = keyIdOf(this.publicKey);
  }

  /** From PKCS#8 PEM text. */
  static fromPem(pem: string | Buffer): DecisionSigner {
    return new DecisionSigner(createPrivateKey(pem));
  }

  /** A new random key (tests, `keys` set-up). */
  static generate(): { signer: DecisionSigner; pem: string } {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { signer: new DecisionSigner(privateKey), pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  }

  /** Signs `req` as decided by `actor`, valid from now for `ttlMs` (capped by the workflow at 10 min unless scheduled). */
  sign(actor: Actor, req: DecisionRequest, ttlMs = DECISION_TTL_MS): SignedDecision {
    const now = Date.now();
    const claims: DecisionClaims = {
      v: 1, ...req, principal: actor.principal, method: actor.method, channel: actor.channel, roles: actor.roles,
      iat: now, exp: now + ttlMs, nonce: randomBytes(16).toString('hex'),
    };
    const text = JSON.stringify(claims);
    return { claims: text, keyId: this.keyId, signature: sign(null, Buffer.from(text, 'utf8'), this.key).toString('hex') };
  }

  /** A trust entry for this key, allowed to sign for `channels`. */
  trustEntry(channels: Trust['keys'][number]['channels']): Trust['keys'][number] {
    return { id: this.keyId, publicKey: this.publicKey, channels };
  }
}
