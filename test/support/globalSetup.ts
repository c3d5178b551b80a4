import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { makeTestAuthority } from './decisions';

/** Before any test file: a Temporal dev server must answer (reused if one runs). Unit-only runs skip it. */
export default async function globalSetup(): Promise<void> {
  // The tests' front end key and trust file, inherited by every test process, worker and CLI.
  makeTestAuthority();
  if (process.env.ETCD_RUNBOOKS_UNIT_ONLY) return;
  execFileSync(join(__dirname, '..', '..', 'scripts', 'temporal-server.sh'), ['start'], { stdio: 'inherit' });
}
