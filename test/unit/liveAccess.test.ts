import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveAccess } from '../../config/access';

// Insider finding 6: the access file was read once per process, so a removed user kept their
// roles in the API and the bridges until a restart.
test('the access file is read again when it changes; a changed file that is refused keeps the last good policy', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'live-')), 'access.yaml');
  writeFileSync(file, 'osUsers:\n  alice: [admin]\n');
  const logs: string[] = [];
  const access = liveAccess(file, 0, (m) => logs.push(m));
  expect(access().osUsers).toEqual({ alice: ['admin'] });
  writeFileSync(file, 'osUsers:\n  alice: [viewer]\n  bob: [approver]\n');
  expect(access().osUsers).toEqual({ alice: ['viewer'], bob: ['approver'] });
  writeFileSync(file, 'osUsers: [not, a, map]\n');
  expect(access().osUsers).toEqual({ alice: ['viewer'], bob: ['approver'] });
  expect(logs.at(-1)).toMatch(/changed but is refused, keeping the previous policy: .*osUsers/);
});
