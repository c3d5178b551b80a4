import YAML from 'yaml';
import { z } from 'zod';
import { keyIdOf, trustDigest, TrustSchema, type Trust } from '../domain/decision';
import { IdentitySchema } from '../domain/identity';
import { describeZodError } from '../domain/inputs';
import { DecisionSigner } from '../service/signer';
import { readRootOwned } from './rootOwned';

/** Default places: the trust file (public keys) and the front ends' signing keys, one per channel. */
export const TRUST_FILE = '/etc/etcd-runbooks/trust.yaml';
export const KEYS_DIR = '/etc/etcd-runbooks/keys';

const TrustFileSchema = z.strictObject({
  keys: z.array(z.strictObject({
    publicKey: z.string().regex(/^[0-9a-f]{64}$/, 'must be the raw Ed25519 public key as 64 lowercase hex digits'),
    channels: z.array(IdentitySchema.shape.channel).min(1).max(4),
    comment: z.string().max(200).optional(),
  })).min(1, 'list at least one front end key').max(16),
});

/**
 * The front ends' public keys that runs trust, from the root-owned YAML file at
 * ETCD_RUNBOOKS_TRUST (default /etc/etcd-runbooks/trust.yaml):
 * `keys: [{ publicKey: <64 hex>, channels: [cli, api, slack, matrix], comment }]`.
 * The service pins it in every run's input; every activity compares the run's copy with the
 * worker's (activities/wrap.ts), so a start carrying keys of its own does nothing.
 * Throws naming the file and field; a file not root's alone is refused (config/rootOwned.ts).
 */
export function loadTrust(file = process.env.ETCD_RUNBOOKS_TRUST || TRUST_FILE): { trust: Trust; digest: string } {
  const parsed = TrustFileSchema.safeParse(YAML.parse(readRootOwned(file, 'trust file')) ?? {});
  if (!parsed.success) throw new Error(`${file}: ${describeZodError(parsed.error)}`);
  const trust = TrustSchema.parse({ keys: parsed.data.keys.map((k) => ({ id: keyIdOf(k.publicKey), publicKey: k.publicKey, channels: k.channels })) });
  return { trust, digest: trustDigest(trust) };
}

/**
 * The signing key of the front end serving `channel`: ETCD_RUNBOOKS_SIGNING_KEY or
 * `/etc/etcd-runbooks/keys/<channel>.pem` (Ed25519 PKCS#8 PEM, root-owned, not world-readable;
 * the unit gives the service user read access through its group). Throws naming the file.
 */
export function loadSigner(channel: z.infer<typeof IdentitySchema.shape.channel>, file = process.env.ETCD_RUNBOOKS_SIGNING_KEY || `${KEYS_DIR}/${channel}.pem`): DecisionSigner {
  try {
    return DecisionSigner.fromPem(readRootOwned(file, 'signing key', { secret: true }));
  } catch (e) {
    throw new Error(`the ${channel} front end cannot sign decisions: ${(e as Error).message}`);
  }
}

/** A trust file's text for `entries` (what `keys` set-up and the tests write). */
export function trustFileText(entries: Array<{ publicKey: string; channels: string[]; comment?: string }>): string {
  return YAML.stringify({ keys: entries });
}
