import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { testInventoryFile } from '../api/fixtures';
import { temporalSettings } from '../../config/temporal';
import { eventually } from '../support/temporal';

jest.setTimeout(10 * 60_000);

const run = promisify(execFile);
const REPO = join(__dirname, '..', '..');
const NOBODY = 65534;

/** A command as OS user nobody (uid, gid, no groups), with only the environment given. */
const asNobody = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', cmd, ...args], { encoding: 'utf8', cwd: '/', env: { PATH: '/usr/bin:/bin', ...env } })
    .then((r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }), (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }));

// Test as it is deployed: the release tarball (npm run release), checked against its SHA256SUMS,
// unpacked where no checkout is, run by its own Node.js runtime as a user who is not root.
describe('the release', () => {
  let root: string;
  let service: ChildProcess | undefined;
  afterAll(() => { service?.kill('SIGTERM'); });

  test('builds with its checksums, carries no TypeScript, and runs as a non-root user from its own runtime', async () => {
    const { stdout } = await run(join(REPO, 'scripts', 'release.sh'), [], { cwd: REPO, encoding: 'utf8', maxBuffer: 16 << 20 });
    const tarball = stdout.trim().split('\n').pop()!;
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
    expect(tarball).toBe(join(REPO, 'release', `etcd-runbooks-${version}-linux-x64.tar.gz`));
    expect((await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: join(REPO, 'release'), encoding: 'utf8' })).stdout).toContain(': OK');

    const dir = mkdtempSync(join(tmpdir(), 'release-'));
    chmodSync(dir, 0o755);
    await run('tar', ['-C', dir, '-xzf', tarball]);
    root = join(dir, `etcd-runbooks-${version}-linux-x64`);
    const listing = (await run('find', [root, '-path', join(root, 'node_modules'), '-prune', '-o', '-type', 'f', '-print'], { encoding: 'utf8', maxBuffer: 16 << 20 })).stdout.split('\n');
    expect(listing.filter((f) => f.endsWith('.ts'))).toEqual([]);
    for (const f of ['bin/etcd-runbooks', 'runtime/node', 'dist/.built', 'dist/workflow-bundle.js', 'dist/VERSION', 'api/openapi.json', 'deploy/head-node/install.sh', 'docs/security.md']) {
      expect({ f, present: existsSync(join(root, f)) }).toEqual({ f, present: true });
    }
    expect(existsSync(join(root, 'node_modules', 'typescript'))).toBe(false); // production dependencies only

    const node = join(root, 'runtime', 'node');
    const cli = join(root, 'bin', 'etcd-runbooks');
    const commit = (await run('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO, encoding: 'utf8' })).stdout.trim();
    expect(await asNobody(node, [cli, '--version'])).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^${version.replace(/\./g, '\\.')} \\(${commit}(-dirty)?\\)\\n$`)) });

    // The CLI service from the release, as nobody, in front of the dev server; the CLI of nobody asks it.
    const runDir = mkdtempSync(join(tmpdir(), 'release-run-'));
    chownSync(runDir, NOBODY, NOBODY);
    const access = join(mkdtempSync(join(tmpdir(), 'release-access-')), 'access.yaml');
    chmodSync(join(access, '..'), 0o755);
    writeFileSync(access, 'osUsers: { nobody: [viewer] }\n', { mode: 0o644 });
    const inventory = testInventoryFile();
    chmodSync(join(inventory, '..'), 0o755);
    chmodSync(inventory, 0o644);
    const socket = join(runDir, 'cli.sock');
    const env = { TEMPORAL_ADDRESS: temporalSettings().address, ETCD_RUNBOOKS_ACCESS: access, ETCD_RUNBOOKS_INVENTORY: inventory, ETCD_RUNBOOKS_TASK_QUEUE: `release-${process.pid}` };
    service = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', node, cli, 'cli-service', '--socket', socket], { cwd: '/', env: { PATH: '/usr/bin:/bin', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    service.stderr?.on('data', (d: Buffer) => { log += d.toString(); });
    await eventually('the CLI service listening', async () => (log.includes('cli-service: listening') ? true : undefined), 30_000).catch((e: Error) => { throw new Error(`${e.message}: ${log}`); });
    const listed = await asNobody(node, [cli, 'runs', '-i', 'lab'], { ETCD_RUNBOOKS_SOCKET: socket });
    expect(listed).toEqual({ code: 0, out: 'no runs on lab started through etcd-runbooks yet\n' });
  });
});
