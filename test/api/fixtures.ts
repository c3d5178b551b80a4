import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import YAML from 'yaml';
import { AccessSchema, type Access } from '../../config/access';
import { tokenHash } from '../../api/auth';

/** Static tokens of the test identities (plain here; the access config holds their SHA-256). */
export const TOKENS = { admin: 'tok-admin-0123456789', viewer: 'tok-viewer-0123456789', alice: 'tok-alice-0123456789', bob: 'tok-bob-0123456789', mallory: 'tok-mallory-0123456789' } as const;

/** alice: operator + approver; bob: approver; vic: viewer; mallory: operator only. OIDC issuer `https://idp.test/`. */
export function testAccess(jwksUrl = 'https://idp.test/jwks.json'): Access {
  return AccessSchema.parse({
    tokens: [
      { name: 'root', sha256: tokenHash(TOKENS.admin), roles: ['admin'] },
      { name: 'vic', sha256: tokenHash(TOKENS.viewer), roles: ['viewer'] },
      { name: 'alice', sha256: tokenHash(TOKENS.alice), roles: ['operator', 'approver'] },
      { name: 'bob', sha256: tokenHash(TOKENS.bob), roles: ['approver'] },
      { name: 'mallory', sha256: tokenHash(TOKENS.mallory), roles: ['operator'] },
    ],
    oidc: { issuer: 'https://idp.test/', audience: 'etcd-runbooks', jwksUrl, principalClaim: 'preferred_username' },
  });
}

/** An OIDC signer with its JWKS (as an identity provider would publish it). */
export async function testIdp(): Promise<{ jwks: JWTVerifyGetKey; jwksDocument: { keys: object[] }; sign: (claims: Record<string, unknown>, o?: { expiresIn?: string | null; audience?: string; key?: 'other' }) => Promise<string> }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const other = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  return {
    jwks: createLocalJWKSet({ keys: [jwk] }),
    jwksDocument: { keys: [jwk] },
    sign: (claims, o = {}) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://idp.test/').setAudience(o.audience ?? 'etcd-runbooks').setIssuedAt();
      // expiresIn null: a token without `exp` (valid forever, if accepted).
      if (o.expiresIn !== null) jwt.setExpirationTime(o.expiresIn ?? '5m');
      return jwt.sign(o.key === 'other' ? other.privateKey : privateKey);
    },
  };
}

/**
 * A valid inventory of cluster `cluster` (default `lab`; three nodes, systemd) in a temporary file. Its addresses are
 * loopback ports where nothing listens: a worker that tries them is refused at once.
 */
export function testInventoryFile(cluster = 'lab'): string {
  const node = (i: number) => ({
    name: `node${i}`,
    ssh: { host: `127.0.0.${10 + i}`, port: 1, user: 'root', hostKeyFingerprint: 'SHA256:2+zuBjD08sp/t/l/szUg+eIK5XrPAcIGFupNJE/sQ5k', privateKeyPath: '/keys/id_ed25519' },
    etcd: { memberName: `node${i}`, peerURL: `https://127.0.0.${10 + i}:2`, clientURL: `https://127.0.0.${10 + i}:3`, dataDir: '/var/lib/etcd/default' },
  });
  const doc = {
    cluster, runtime: 'systemd', backupDir: '/var/backups/etcd',
    tls: { caFile: '/p/ca.crt', serverCertFile: '/p/s.crt', serverKeyFile: '/p/s.key', peerCertFile: '/p/p.crt', peerKeyFile: '/p/p.key', clientCertFile: '/p/c.crt', clientKeyFile: '/p/c.key' },
    nodes: [node(1), node(2), node(3)],
  };
  const file = join(mkdtempSync(join(tmpdir(), 'api-inv-')), `${cluster}.yaml`);
  writeFileSync(file, YAML.stringify(doc));
  return file;
}
