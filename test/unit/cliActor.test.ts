import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { cliActor } from '../../client/service';

describe('the CLI\'s identity', () => {
  const saved = { ...process.env };
  afterEach(() => { process.env = { ...saved }; });
  const accessFile = (yaml: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'access-')), 'access.yaml');
    writeFileSync(f, yaml);
    process.env.ETCD_RUNBOOKS_ACCESS = f;
  };

  test('is the OS user, whatever the environment claims; admin when the access file lists no OS users', () => {
    process.env.ETCD_RUNBOOKS_ACCESS = '/nonexistent/access.yaml';
    process.env.ETCD_RUNBOOKS_USER = 'somebody-else';
    expect(cliActor()).toEqual({ principal: userInfo().username, method: 'os-user', channel: 'cli', roles: ['admin'] });
  });

  test('takes its roles from osUsers, and is refused when not listed there', () => {
    accessFile(`osUsers:\n  ${userInfo().username}: [viewer]\n`);
    expect(cliActor().roles).toEqual(['viewer']);
    accessFile('osUsers:\n  someone: [admin]\n');
    expect(() => cliActor()).toThrow(/has no roles in the access config/);
  });
});
