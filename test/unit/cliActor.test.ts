import { chmodSync, chownSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ACCESS_FILE, cliAccessFile, loadAccess } from '../../config/access';
import { cliActor } from '../../client/service';

// The CLI's policy comes from root-owned files only: the caller's environment cannot point it
// elsewhere (unless the caller is root), and a file anyone else could have written is refused.
describe('the CLI\'s identity and access policy', () => {
  const saved = { ...process.env };
  afterEach(() => { process.env = { ...saved }; });
  const accessFile = (yaml: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'access-')), 'access.yaml');
    writeFileSync(f, yaml);
    process.env.ETCD_RUNBOOKS_ACCESS = f;
    return f;
  };

  test('is the OS user, whatever the environment claims; with no access file only root is admin', () => {
    process.env.ETCD_RUNBOOKS_ACCESS = '/nonexistent/access.yaml';
    process.env.ETCD_RUNBOOKS_USER = 'somebody-else';
    expect(userInfo().uid).toBe(0); // the suite runs as root, like CI
    expect(cliActor()).toEqual({ principal: userInfo().username, method: 'os-user', channel: 'cli', roles: ['admin'] });
  });

  test('takes its roles from osUsers, and is refused when not listed there', () => {
    accessFile(`osUsers:\n  ${userInfo().username}: [viewer]\n`);
    expect(cliActor().roles).toEqual(['viewer']);
    accessFile('osUsers:\n  someone: [admin]\n');
    expect(() => cliActor()).toThrow(/has no roles in the access policy/);
  });

  test('a non-root caller\'s ETCD_RUNBOOKS_ACCESS is ignored: the policy is the installed file', () => {
    expect(cliAccessFile(1000, { ETCD_RUNBOOKS_ACCESS: '/dev/null' })).toBe(ACCESS_FILE);
    expect(cliAccessFile(1000, { ETCD_RUNBOOKS_ACCESS: '/home/mallory/access.yaml' })).toBe(ACCESS_FILE);
    expect(cliAccessFile(0, { ETCD_RUNBOOKS_ACCESS: '/srv/access.yaml' })).toBe('/srv/access.yaml');
  });

  test('an access file that is not root\'s alone is refused: /dev/null, a link, another owner, group-writable', () => {
    expect(() => loadAccess('/dev/null')).toThrow(/access file \/dev\/null is not a regular file/);
    const f = accessFile('fourEyes: []\n');
    const link = join(mkdtempSync(join(tmpdir(), 'access-')), 'link.yaml');
    symlinkSync(f, link);
    expect(() => loadAccess(link)).toThrow(/is not a regular file/);
    chmodSync(f, 0o664);
    expect(() => loadAccess(f)).toThrow(/writable by group or others \(mode 664\)/);
    chmodSync(f, 0o644);
    chownSync(f, 65534, 65534);
    expect(() => loadAccess(f)).toThrow(/owned by uid 65534, not root/);
    chownSync(f, 0, 0);
    expect(loadAccess(f).fourEyes).toEqual([]);
  });
});
