import { createHash, timingSafeEqual } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { accessRef, personOf, type Access, type AccessRef } from '../config/access';
import { RoleSchema, type Actor, type Role } from '../domain/identity';
import { ServiceError } from '../service/errors';

/** What a request presents: its Authorization header and, over TLS, the verified client certificate. */
export interface Credentials {
  authorization?: string;
  socket?: unknown;
}

/**
 * Turns a request's credentials into an Actor with roles (config/access.ts), or throws
 * ServiceError `unauthenticated` (HTTP 401). In order:
 * 1. `Authorization: Bearer <JWT>` when `oidc` is configured: signature checked against the JWKS
 *    (jose, RFC 7515/7517), issuer, audience, expiry (required; 60 s clock tolerance); method `oidc`.
 * 2. `Authorization: Bearer <token>`: its SHA-256 compared (constant time) with each stored hash;
 *    method `token`.
 * 3. A client certificate verified by the server's TLS (`requestCert`, the configured CA): its
 *    subject CN mapped to roles in `mtls`; method `mtls`.
 * The principal never comes from a request field.
 */
export class Authenticator {
  private readonly jwks?: JWTVerifyGetKey;

  private readonly policy: AccessRef;

  /** `access`: the policy, or an AccessRef read on every request (config/access.ts liveAccess). */
  constructor(access: Access | AccessRef, jwks?: JWTVerifyGetKey) {
    this.policy = accessRef(access);
    const oidc = this.policy().oidc;
    this.jwks = jwks ?? (oidc ? createRemoteJWKSet(new URL(oidc.jwksUrl)) : undefined);
  }

  private get access(): Access {
    return this.policy();
  }

  async authenticate(c: Credentials): Promise<Actor> {
    const bearer = /^Bearer\s+(\S+)$/i.exec(c.authorization ?? '')?.[1];
    if (c.authorization && !bearer) throw new ServiceError('unauthenticated', 'Authorization must be "Bearer <token>"');
    if (bearer) {
      if (bearer.split('.').length === 3 && this.access.oidc && this.jwks) return this.oidc(bearer);
      return this.token(bearer);
    }
    const cert = this.clientCertificate(c.socket);
    if (cert) return cert;
    throw new ServiceError('unauthenticated', 'no credentials: send Authorization: Bearer <token>, or a client certificate');
  }

  private async oidc(jwt: string): Promise<Actor> {
    const o = this.access.oidc!;
    let payload;
    try {
      // `exp` required: a token without one would be valid forever once leaked.
      ({ payload } = await jwtVerify(jwt, this.jwks!, { issuer: o.issuer, audience: o.audience, clockTolerance: 60, requiredClaims: ['exp'] }));
    } catch (e) {
      throw new ServiceError('unauthenticated', `bearer token refused: ${(e as Error).message}`);
    }
    const principal = payload[o.principalClaim];
    if (typeof principal !== 'string' || !/^[A-Za-z0-9@._:+-]{1,128}$/.test(principal)) throw new ServiceError('unauthenticated', `bearer token has no usable ${o.principalClaim} claim`);
    const claim = payload[o.rolesClaim];
    const names = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/\s+/) : [];
    const roles = names.map((r) => RoleSchema.safeParse(r)).filter((r) => r.success).map((r) => r.data as Role);
    // The token's expiry goes with the actor: an event stream ends when it does (api/server.ts).
    return Object.assign({ principal: personOf(this.access, 'oidc', principal), method: 'oidc' as const, channel: 'api' as const, roles: roles.length ? roles : o.defaultRoles }, typeof payload.exp === 'number' ? { expiresAt: payload.exp * 1000 } : {});
  }

  private token(token: string): Actor {
    const digest = createHash('sha256').update(token).digest();
    const match = this.access.tokens.find((t) => timingSafeEqual(Buffer.from(t.sha256, 'hex'), digest));
    if (!match) throw new ServiceError('unauthenticated', 'bearer token refused: unknown token');
    return { principal: personOf(this.access, 'token', match.name), method: 'token', channel: 'api', roles: match.roles };
  }

  private clientCertificate(socket: unknown): Actor | undefined {
    const tls = socket as TLSSocket | undefined;
    if (!tls || typeof tls.getPeerCertificate !== 'function' || !tls.authorized) return undefined;
    const cn = tls.getPeerCertificate()?.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    if (!name) return undefined;
    const roles = this.access.mtls?.[name];
    if (!roles) throw new ServiceError('unauthenticated', `client certificate ${name} has no roles in the access config`);
    return { principal: personOf(this.access, 'mtls', name), method: 'mtls', channel: 'api', roles };
  }
}

/** The SHA-256 (hex) to store in the access file for a static token. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
