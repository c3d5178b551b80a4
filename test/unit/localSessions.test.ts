import { chownSync, closeSync, linkSync, mkdtempSync, openSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeProofDir } from '../../api/local';
import { getentUser, LocalSessions } from '../../api/localSessions';
import { AccessSchema, type Access } from '../../config/access';

// Insider finding 2 (the CLI): who the local CLI service's caller is comes from the kernel (the
// owner of a file the caller created), never from what the caller says. Real files, real uids
// (the tests run as root, which may chown, as the kernel does for each user's own files).

const NOBODY = 65534;
const DAEMON = 1;

function setup(policy: Record<string, unknown> = { osUsers: { nobody: ['operator'], daemon: ['approver'] } }) {
  const dir = join(mkdtempSync(join(tmpdir(), 'proof-')), 'callers');
  makeProofDir(dir);
  let access: Access = AccessSchema.parse(policy);
  let now = Date.now();
  const sessions = new LocalSessions(dir, () => access, { now: () => now });
  /** What a caller with `uid` does: creates the challenge's file (chown stands in for being that user). */
  const prove = (nonce: string, uid: number) => {
    const f = join(dir, nonce);
    closeSync(openSync(f, 'wx', 0o600));
    chownSync(f, uid, uid);
    return f;
  };
  return { dir, sessions, prove, setAccess: (p: Record<string, unknown>) => { access = AccessSchema.parse(p); }, later: (ms: number) => { now += ms; } };
}

const refusal = (f: () => unknown) => { try { f(); return 'accepted'; } catch (e) { return (e as Error).message; } };

describe('local CLI sessions: the caller proved by the kernel', () => {
  test('the owner of the challenge file is the caller: principal, method os-user, channel cli, roles from osUsers', () => {
    const { sessions, prove } = setup();
    const c = sessions.challenge();
    const file = prove(c.nonce, NOBODY);
    const s = sessions.session(c.nonce);
    expect(sessions.actorOf(s.token)).toMatchObject({ principal: 'nobody', method: 'os-user', channel: 'cli', roles: ['operator'] });
    expect(refusal(() => openSync(file, 'r'))).toMatch(/ENOENT/); // the proof is spent
    // Another uid, another person: the same service tells them apart.
    const d = sessions.challenge();
    prove(d.nonce, DAEMON);
    expect(sessions.actorOf(sessions.session(d.nonce).token)).toMatchObject({ principal: 'daemon', roles: ['approver'] });
  });

  test("the proof dir must be a directory of the service's uid with mode 1733, or the service refuses to start", () => {
    const { dir } = setup();
    expect(refusal(() => makeProofDir(dir))).toBe('accepted'); // idempotent
    const other = join(mkdtempSync(join(tmpdir(), 'proof-')), 'callers');
    makeProofDir(other);
    chownSync(other, NOBODY, NOBODY);
    expect(refusal(() => makeProofDir(other))).toMatch(/must be a directory owned by uid 0 with mode 1733 \(is uid 65534/);
  });

  test('a challenge is answered once, in time, by a regular file with one link', () => {
    const { sessions, prove, dir, later } = setup();
    const c = sessions.challenge();
    prove(c.nonce, NOBODY);
    sessions.session(c.nonce);
    expect(refusal(() => sessions.session(c.nonce))).toMatch(/unknown or expired challenge/);
    expect(refusal(() => sessions.session('f'.repeat(64)))).toMatch(/unknown or expired challenge/);

    const missing = sessions.challenge();
    expect(refusal(() => sessions.session(missing.nonce))).toMatch(/no proof file/);

    // A link to a file of the person to impersonate: a symlink, or a hard link (two links).
    const theirs = join(dir, 'theirs');
    writeFileSync(theirs, '');
    chownSync(theirs, DAEMON, DAEMON);
    const sym = sessions.challenge();
    symlinkSync(theirs, join(dir, sym.nonce));
    expect(refusal(() => sessions.session(sym.nonce))).toMatch(/is not a regular file/);
    const hard = sessions.challenge();
    linkSync(theirs, join(dir, hard.nonce));
    expect(refusal(() => sessions.session(hard.nonce))).toMatch(/has 2 links/);

    const slow = sessions.challenge();
    later(31_000);
    prove(slow.nonce, NOBODY);
    expect(refusal(() => sessions.session(slow.nonce))).toMatch(/unknown or expired challenge/);
  });

  test('a uid with no name or no role gets no session; a role removed from the policy ends the session\'s power at once', () => {
    const { sessions, prove, setAccess, later } = setup();
    const ghost = sessions.challenge();
    prove(ghost.nonce, 54321);
    expect(refusal(() => sessions.session(ghost.nonce))).toBe(getentUser(54321) ? 'accepted' : 'uid 54321 has no user name (getent passwd 54321)');
    const root = sessions.challenge();
    prove(root.nonce, 0);
    expect(refusal(() => sessions.session(root.nonce))).toMatch(/OS user root has no roles in the access policy/);

    const c = sessions.challenge();
    prove(c.nonce, NOBODY);
    const { token } = sessions.session(c.nonce);
    setAccess({ osUsers: { daemon: ['approver'] } });
    expect(refusal(() => sessions.actorOf(token))).toMatch(/OS user nobody has no roles/);
    setAccess({ osUsers: { nobody: ['viewer'] } });
    expect(sessions.actorOf(token).roles).toEqual(['viewer']);
    later(901_000);
    expect(refusal(() => sessions.actorOf(token))).toMatch(/unknown or expired session/);
  });
});
