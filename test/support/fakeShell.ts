import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecOptions, ExecResult, NodeShells } from '../../activities/ssh/session';

const BIN = join(__dirname, 'fakeNode', 'bin');

/**
 * A scripted node shell for fast tests of activities and runtimes: each command runs locally with
 * `sh`, with fake `systemctl`, `journalctl` and `ctr` first on PATH (test/support/fakeNode/bin,
 * answering as captured from the lab's Debian nodes), their state in `<root>/<node>`. Paths in the
 * inventory point under `root`. Every command is kept in `calls`. Streams are not scripted.
 */
export class FakeNodeShells implements NodeShells {
  readonly calls: { node: string; argv: string[] }[] = [];

  constructor(readonly root: string, private readonly manifestsDir?: string) {}

  /** The node's state dir (the fake units' state, its journal). */
  nodeDir(node: string): string {
    const d = join(this.root, node);
    mkdirSync(d, { recursive: true });
    return d;
  }

  session(node: string) {
    return {
      exec: (argv: readonly string[], opts: ExecOptions = {}) => this.exec(node, argv, opts),
      openStream: async (): Promise<never> => { throw new Error('FakeNodeShells: streams are not scripted'); },
    };
  }

  private exec(node: string, argv: readonly string[], opts: ExecOptions): Promise<ExecResult> {
    this.calls.push({ node, argv: [...argv] });
    const startedAt = new Date().toISOString();
    const env = { ...process.env, PATH: `${BIN}:${process.env.PATH}`, FAKE_NODE: this.nodeDir(node), FAKE_MANIFESTS: this.manifestsDir ?? '' };
    return new Promise((resolve, reject) => {
      const p = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      p.on('error', reject);
      p.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr, record: { node, argv: [...argv], exitCode: code ?? 1, stdout, stderr, startedAt, durationMs: 0 } }));
      // A command that exits without reading its stdin closes the pipe first (as over SSH, not an error).
      p.stdin.on('error', () => undefined);
      p.stdin.end(opts.stdin ?? '');
    });
  }
}
