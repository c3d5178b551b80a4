import { execFile } from 'node:child_process';
import { join } from 'node:path';

const CLI = join(__dirname, '..', '..', 'bin', 'etcd-runbooks');

/** The CLI as OS user `user` (its own uid and gid, no groups), with an environment that tries to widen its policy. */
export function cliAs(user: 'nobody' | 'daemon', socket: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const id = user === 'nobody' ? '65534' : '1';
  return new Promise((resolve) => {
    execFile('setpriv', [`--reuid=${id}`, `--regid=${id}`, '--clear-groups', '--', process.execPath, CLI, ...args], {
      encoding: 'utf8', cwd: '/',
      env: { PATH: process.env.PATH, HOME: '/', ETCD_RUNBOOKS_SOCKET: socket, ETCD_RUNBOOKS_ACCESS: '/dev/null', ETCD_RUNBOOKS_SIGNING_KEY: process.env.ETCD_RUNBOOKS_SIGNING_KEY, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS },
    }, (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}
