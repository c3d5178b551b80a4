import { readFileSync } from 'node:fs';
import { Client, type ClientChannel } from 'ssh2';
import type { NodeSsh } from '../../inventory/schema';
import { excerpt, type CommandRecord } from '../audit';
import { HostKeyMismatchError, sshFingerprint } from './fingerprint';
import { shellCommand } from './quote';

/** How often a running command heartbeats its activity (ms). */
export const HEARTBEAT_TICK_MS = 1_000;

/** Options for one remote command. */
export interface ExecOptions {
  /** Kill the command's channel after this many ms (default 60 s). */
  timeoutMs?: number;
  /** Bytes written to the command's stdin, then EOF. */
  stdin?: string | Buffer;
  /** Called every second while the command runs (activity heartbeats; workflows/proxies.ts says why). */
  onTick?: () => void;
}

/** Result of a command that ran to its end (any exit code). stdout/stderr are complete. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  record: CommandRecord;
}

/** Raised when a command could not run to its end (connect failure, timeout, connection lost). */
export class SshError extends Error {
  constructor(message: string, public readonly record?: CommandRecord) {
    super(message);
    this.name = 'SshError';
  }
}

const MAX_CAPTURE = 16 * 1024 * 1024;

/**
 * One SSH connection to one node, opened on first use and reused for every later command.
 * The host key is checked against the pinned fingerprint before authentication; a mismatch
 * raises HostKeyMismatchError. Keepalives notice a frozen or partitioned node within ~6 s.
 */
export class NodeSession {
  private client?: Promise<Client>;

  constructor(public readonly node: string, private readonly ssh: NodeSsh) {}

  private connect(): Promise<Client> {
    if (this.client) return this.client;
    const attempt = new Promise<Client>((resolve, reject) => {
      const c = new Client();
      let mismatch: HostKeyMismatchError | undefined;
      c.on('ready', () => resolve(c));
      c.on('error', (err) => { this.client = undefined; reject(mismatch ?? new SshError(`ssh to ${this.node} (${this.ssh.host}:${this.ssh.port}): ${err.message}`)); });
      c.on('close', () => { this.client = undefined; });
      c.connect({
        host: this.ssh.host,
        port: this.ssh.port,
        username: this.ssh.user,
        privateKey: readFileSync(this.ssh.privateKeyPath),
        readyTimeout: 10_000,
        keepaliveInterval: 2_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const seen = sshFingerprint(key);
          if (seen === this.ssh.hostKeyFingerprint) return true;
          mismatch = new HostKeyMismatchError(this.node, this.ssh.hostKeyFingerprint, seen);
          return false;
        },
      });
    });
    this.client = attempt;
    attempt.catch(() => { if (this.client === attempt) this.client = undefined; });
    return attempt;
  }

  /** Runs argv on the node (quoted for the remote shell); resolves with any exit code. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const startedAt = new Date();
    const record: CommandRecord = { node: this.node, argv: [...argv], exitCode: null, stdout: '', stderr: '', startedAt: startedAt.toISOString(), durationMs: 0 };
    if (opts.stdin !== undefined) record.stdinBytes = Buffer.byteLength(opts.stdin);
    const finish = (out: string, err: string, code: number | null, error?: string): CommandRecord => {
      const failed = code !== 0 || error !== undefined;
      Object.assign(record, { stdout: failed ? excerpt(out) : '', stderr: failed ? excerpt(err) : '', exitCode: code, durationMs: Date.now() - startedAt.getTime() });
      if (error) record.error = error;
      return record;
    };
    // Heartbeat now and every second until the command ends, connecting included.
    opts.onTick?.();
    const tick = opts.onTick ? setInterval(opts.onTick, HEARTBEAT_TICK_MS) : undefined;
    try {
      return await this.execConnected(argv, opts, finish);
    } finally {
      if (tick) clearInterval(tick);
    }
  }

  private async execConnected(argv: readonly string[], opts: ExecOptions, finish: (out: string, err: string, code: number | null, error?: string) => CommandRecord): Promise<ExecResult> {
    let client: Client;
    try {
      client = await this.connect();
    } catch (e) {
      if (e instanceof HostKeyMismatchError) throw e;
      throw new SshError((e as Error).message, finish('', '', null, (e as Error).message));
    }
    const command = shellCommand(argv);
    return new Promise<ExecResult>((resolve, reject) => {
      let out = '';
      let err = '';
      let settled = false;
      let channel: ClientChannel | undefined;
      const timeoutMs = opts.timeoutMs ?? 60_000;
      const done = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeListener('close', onClose);
        fn();
      };
      const fail = (message: string) => done(() => reject(new SshError(`${this.node}: ${message}: ${command}`, finish(out, err, null, message))));
      const onClose = () => fail('SSH connection lost while the command ran');
      const timer = setTimeout(() => { channel?.close(); fail(`timed out after ${timeoutMs} ms`); }, timeoutMs);
      client.once('close', onClose);
      client.exec(command, (e, ch) => {
        if (e) return fail(`cannot start command (${e.message})`);
        channel = ch;
        ch.on('data', (d: Buffer) => { if (out.length < MAX_CAPTURE) out += d.toString('utf8'); });
        ch.stderr.on('data', (d: Buffer) => { if (err.length < MAX_CAPTURE) err += d.toString('utf8'); });
        let exitCode = 255;
        ch.on('exit', (code: number | null, signal?: string) => {
          if (typeof code === 'number') exitCode = code;
          else if (signal) err += `\n(killed by signal ${signal})`;
        });
        ch.on('close', () => {
          done(() => {
            resolve({ exitCode, stdout: out, stderr: err, record: finish(out, err, exitCode) });
          });
        });
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      });
    });
  }

  /**
   * Starts argv on the node and hands back its channel for streaming (stdout readable, stdin
   * writable), plus a promise of its exit code and the last 4 KB of its stderr. Nothing is
   * captured: for file transfers. Raises SshError if the command cannot start.
   */
  async openStream(argv: readonly string[]): Promise<{ channel: ClientChannel; exit: Promise<{ code: number | null; stderr: string }> }> {
    let client: Client;
    try {
      client = await this.connect();
    } catch (e) {
      if (e instanceof HostKeyMismatchError) throw e;
      throw new SshError((e as Error).message);
    }
    const command = shellCommand(argv);
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      client.exec(command, (e, ch) => (e ? reject(new SshError(`${this.node}: cannot start command (${e.message}): ${command}`)) : resolve(ch)));
    });
    const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => {
      let err = '';
      let code: number | null = null;
      channel.stderr.on('data', (d: Buffer) => { err = (err + d.toString('utf8')).slice(-4096); });
      channel.on('exit', (c: number | null) => { code = typeof c === 'number' ? c : null; });
      channel.on('close', () => resolve({ code, stderr: err }));
      client.once('close', () => resolve({ code: null, stderr: `${err}\nSSH connection lost` }));
    });
    return { channel, exit };
  }

  /** Closes the connection (a later exec reconnects). */
  close(): void {
    const c = this.client;
    this.client = undefined;
    c?.then((x) => x.end()).catch(() => undefined);
  }
}

/** One session per node per worker process, keyed by node name and SSH settings. */
export class SshPool {
  private sessions = new Map<string, NodeSession>();

  session(node: string, ssh: NodeSsh): NodeSession {
    const key = `${node}|${ssh.user}@${ssh.host}:${ssh.port}|${ssh.hostKeyFingerprint}|${ssh.privateKeyPath}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = new NodeSession(node, ssh);
      this.sessions.set(key, s);
    }
    return s;
  }

  closeAll(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
