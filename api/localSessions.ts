import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { osUserRoles, personOf, type AccessRef } from '../config/access';
import type { Actor } from '../domain/identity';
import { ServiceError } from '../service/errors';

/** A challenge the caller answers by creating a file named `nonce` in `dir` (`O_CREAT|O_EXCL`). */
export interface Challenge {
  nonce: string;
  dir: string;
  /** Seconds the caller has to answer. */
  expiresInSeconds: number;
}

/** A session: the bearer token the caller sends with every request, and when it stops working (ISO-8601). */
export interface Session {
  token: string;
  expiresAt: string;
}

/** Looks up an OS user's name by uid (NSS: /etc/passwd, LDAP, SSSD), or undefined. */
export type UserLookup = (uid: number) => string | undefined;

/** `getent passwd <uid>`: the name NSS gives, so directory users (LDAP, SSSD) count as well as local ones. */
export const getentUser: UserLookup = (uid) => {
  try {
    const line = execFileSync('getent', ['passwd', String(uid)], { encoding: 'utf8', timeout: 5000 });
    return line.split(':')[0] || undefined;
  } catch {
    return undefined;
  }
};

/**
 * Who the local CLI's caller is, proved by the kernel and not by anything the caller says.
 *
 * Node cannot read a unix socket peer's credentials (SO_PEERCRED), so the proof is a file:
 * 1. `challenge()` hands out a random nonce (32 bytes, hex), valid `challengeSeconds`, once.
 * 2. The caller creates `<dir>/<nonce>`; the kernel makes it owned by the caller's uid.
 * 3. `session(nonce)` lstat()s that path: a regular file (not a link), one link only (a hard link
 *    of someone else's file has two), created after the challenge (birth time, where the file
 *    system keeps one); its owner's uid is the caller. The file is removed, the nonce spent.
 * `dir` is owned by the service user, mode 1733: anyone may create in it, nobody else may list it
 * (names stay secret) or remove or rename another's file (sticky bit). The nonce travels only on
 * the socket to the process that asked.
 *
 * The session's actor: principal from the access policy's people mapping (`os-user`), roles from
 * `osUsers` (never admin for a non-root uid that the policy does not list), channel `cli`.
 * Errors: ServiceError `unauthenticated` naming what failed.
 */
export class LocalSessions {
  private readonly challenges = new Map<string, number>();

  private readonly sessions = new Map<string, { user: string; uid: number; expires: number }>();

  constructor(private readonly dir: string, private readonly access: AccessRef, private readonly o: {
    challengeSeconds?: number; sessionSeconds?: number; lookup?: UserLookup; now?: () => number;
  } = {}) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  challenge(): Challenge {
    this.expire();
    if (this.challenges.size > 10_000) throw new ServiceError('unavailable', 'too many open challenges; try again in a minute');
    const nonce = randomBytes(32).toString('hex');
    this.challenges.set(nonce, this.now());
    return { nonce, dir: this.dir, expiresInSeconds: this.challengeSeconds };
  }

  session(nonce: string): Session {
    this.expire();
    const issued = this.challenges.get(nonce);
    if (issued === undefined || !/^[0-9a-f]{64}$/.test(nonce)) throw new ServiceError('unauthenticated', 'unknown or expired challenge: ask for a new one');
    this.challenges.delete(nonce);
    const path = join(this.dir, nonce);
    let st;
    try {
      st = lstatSync(path, { bigint: true });
    } catch {
      throw new ServiceError('unauthenticated', `no proof file ${path}: create it, then ask for the session`);
    }
    try {
      if (!st.isFile()) throw new ServiceError('unauthenticated', `${path} is not a regular file`);
      if (st.nlink !== 1n) throw new ServiceError('unauthenticated', `${path} has ${st.nlink} links: a link to another file proves nothing`);
      // Birth time is 0 where the file system keeps none; there the link count and sticky dir stand alone.
      const born = Number(st.birthtimeMs);
      if (born > 0 && born + 1000 < issued) throw new ServiceError('unauthenticated', `${path} is older than the challenge`);
    } finally {
      try { unlinkSync(path); } catch { /* gone already */ }
    }
    const uid = Number(st.uid);
    const user = (this.o.lookup ?? getentUser)(uid);
    if (!user) throw new ServiceError('unauthenticated', `uid ${uid} has no user name (getent passwd ${uid})`);
    const expires = this.now() + this.sessionSeconds * 1000;
    this.actorFor(user, uid, expires); // refused now, not at the first request, when the user has no role
    const token = randomBytes(32).toString('hex');
    this.sessions.set(token, { user, uid, expires });
    return { token, expiresAt: new Date(expires).toISOString() };
  }

  /** The actor of a session token, its roles read from the policy as it is now (a removed role applies at once). */
  actorOf(token: string): Actor {
    this.expire();
    const s = this.sessions.get(token);
    if (!s) throw new ServiceError('unauthenticated', 'unknown or expired session: start a new one');
    return this.actorFor(s.user, s.uid, s.expires);
  }

  private actorFor(user: string, uid: number, expires: number): Actor {
    const access = this.access();
    const roles = osUserRoles(access, user, uid);
    if (!roles.length) throw new ServiceError('forbidden', `OS user ${user} has no roles in the access policy (osUsers)`);
    // The session's expiry goes with the actor: an event stream ends when it does (api/server.ts).
    return Object.assign({ principal: personOf(access, 'os-user', user), method: 'os-user' as const, channel: 'cli' as const, roles }, { expiresAt: expires });
  }

  private get challengeSeconds(): number {
    return this.o.challengeSeconds ?? 30;
  }

  private get sessionSeconds(): number {
    return this.o.sessionSeconds ?? 900;
  }

  private expire(): void {
    const now = this.now();
    for (const [n, at] of this.challenges) if (at + this.challengeSeconds * 1000 < now) this.challenges.delete(n);
    for (const [t, s] of this.sessions) if (s.expires < now) this.sessions.delete(t);
  }
}
