import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * `etcd-runbooks --version`: "<version> (<commit>)". A release reads both from dist/VERSION
 * (scripts/release.sh writes it); a checkout from package.json and `git rev-parse` (commit
 * "unknown" without git).
 */
export function versionLine(here = __dirname): string {
  let dir = here;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  for (const f of [join(dir, 'dist', 'VERSION'), join(here, '..', 'VERSION')]) {
    if (existsSync(f)) {
      const [version, commit] = readFileSync(f, 'utf8').trim().split(/\s+/);
      return `${version} (${commit ?? 'unknown'})`;
    }
  }
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  let commit = 'unknown';
  try { commit = execFileSync('git', ['-C', dir, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* not a git checkout */ }
  return `${version} (${commit}, checkout)`;
}
