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
 * Commands (SSH channels) open at once over one connection; later ones wait for a free one.
 * OpenSSH refuses channels past its MaxSessions (default 10) with "open failed", which a read
 * would take for a failed command: seen on the lab with 15 at once. Parallel reads reach that on
 * the control node of a larger cluster. A server whose MaxSessions is lower gets fewer: the
 * session learns its limit from the refusals (openChannel).
 */
export const MAX_CHANNELS = 8;

/** Tries of a channel open the server refused (openChannel). */
const OPEN_RETRIES = 40;

/**
 * Refusals of one channel open (25 ms apart) after which, with other channels of this connection
 * open, the server's limit is taken to be those channels: a server with MaxSessions below
 * MAX_CHANNELS refuses every open past it until one of ours closes, which may be minutes.
 */
const REFUSALS_BEFORE_LOWERING = 8;

/** A channel open the server refused while this connection held others: wait for one of them. */
class ChannelRefused extends Error {}

/**
 * One SSH connection to one node, opened on first use and reused for every later command.
 * The host key is checked against the pinned fingerprint before authentication; a mismatch
 * raises HostKeyMismatchError. Keepalives notice a frozen or partitioned node within ~6 s.
 * TCP_NODELAY is set: commands are small request/response exchanges.
 */
export class NodeSession {
  private client?: Promise<Client>;
  private open = 0;
  /** Channels at once: MAX_CHANNELS, lowered when the server refuses more (its MaxSessions). */
  private cap = MAX_CHANNELS;
  private waiting: Array<() => void> = [];

  constructor(public readonly node: string, private readonly ssh: NodeSsh) {}

  /** The channels this session opens at once (MAX_CHANNELS, or what the server allowed). */
  get channelLimit(): number {
    return this.cap;
  }

  /** Waits for one of the `cap` channels; each acquire needs one release. */
  private acquire(): Promise<void> {
    if (this.open < this.cap) {
      this.open++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the channel to the next waiting command, if any (the count stays), else frees it. */
  private release(): void {
    if (this.open > this.cap) {
      this.open--;
      return;
    }
    const next = this.waiting.shift();
    if (next) next();
    else this.open--;
  }

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
      // Without TCP_NODELAY every short command waits out a 40 ms delayed ACK (Nagle's algorithm
      // holds the exec request's EOF behind it): 48 ms per command against 4 ms, measured on the lab.
      c.setNoDelay(true);
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
      for (;;) {
        await this.acquire();
        try {
          return await this.execConnected(argv, opts, finish);
        } catch (e) {
          if (!(e instanceof ChannelRefused)) throw e;
        } finally {
          this.release();
        }
      }
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
      this.openChannel(client, command, (ch) => {
        channel = ch;
        ch.on('data', (d: Buffer) => { if (out.length < MAX_CAPTURE) out += d.toString('utf8'); });
        ch.stderr.on('data', (d: Buffer) => { if (err.length < MAX_CAPTURE) err += d.toString('utf8'); });
        let exitCode = 255;
        ch.on('exit', (code: number | null, signal?: string) => {
          if (typeof code === 'number') exitCode = code;
          else if (signal) err += `\n(killed by signal ${signal})`;
        });
        ch.on('close', () => done(() => resolve({ exitCode, stdout: out, stderr: err, record: finish(out, err, exitCode) })));
        if (opts.stdin !== undefined) ch.end(opts.stdin);
        else ch.end();
      }).catch((e: Error) => (e instanceof ChannelRefused ? done(() => reject(e)) : fail(`cannot start command (${e.message})`)));
    });
  }

  /**
   * Opens an exec channel for `command` and hands it to `attach` at once, inside ssh2's callback:
   * the packets after the open (output, exit status, close) may be parsed in the same tick, and
   * an `exit` event with no listener yet is lost. The server refuses a channel ("open failed")
   * while it still counts closed ones against MaxSessions (OpenSSH frees a session after the
   * close exchange): nothing ran, so the open is tried again, up to OPEN_RETRIES times 25 ms apart.
   * Refused REFUSALS_BEFORE_LOWERING times while this connection holds other channels, the server's
   * limit is below ours: the cap drops to those channels and ChannelRefused sends the command back
   * to wait for one (exec, openStream).
   */
  private openChannel<T>(client: Client, command: string, attach: (ch: ClientChannel) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (attempt: number) => client.exec(command, (e, ch) => {
        if (!e) return resolve(attach(ch));
        const refused = /open failed/.test(e.message);
        if (refused && attempt >= REFUSALS_BEFORE_LOWERING && this.open > 1) {
          this.cap = Math.min(this.cap, this.open - 1);
          return reject(new ChannelRefused(e.message));
        }
        if (refused && attempt < OPEN_RETRIES) return void setTimeout(() => start(attempt + 1), 25);
        reject(e);
      });
      start(1);
    });
  }

  /**
   * Starts argv on the node and hands back its channel for streaming (stdout readable, stdin
   * writable), plus a promise of its exit code and the last 4 KB of its stderr. Nothing is
   * captured: for file transfers. Holds one of the connection's channels until it exits.
   * Raises SshError if the command cannot start.
   */
  async openStream(argv: readonly string[]): Promise<{ channel: ClientChannel; exit: Promise<{ code: number | null; stderr: string }> }> {
    const command = shellCommand(argv);
    for (;;) {
      await this.acquire();
      try {
        let client: Client;
        try {
          client = await this.connect();
        } catch (e) {
          if (e instanceof HostKeyMismatchError) throw e;
          throw new SshError((e as Error).message);
        }
        const opened = await this.openChannel(client, command, (channel) => ({
          channel,
          exit: new Promise<{ code: number | null; stderr: string }>((resolve) => {
            let err = '';
            let code: number | null = null;
            channel.stderr.on('data', (d: Buffer) => { err = (err + d.toString('utf8')).slice(-4096); });
            channel.on('exit', (c: number | null) => { code = typeof c === 'number' ? c : null; });
            channel.on('close', () => resolve({ code, stderr: err }));
            client.once('close', () => resolve({ code: null, stderr: `${err}\nSSH connection lost` }));
          }),
        })).catch((e: Error) => {
          if (e instanceof ChannelRefused) throw e;
          throw new SshError(`${this.node}: cannot start command (${e.message}): ${command}`);
        });
        void opened.exit.then(() => this.release());
        return opened;
      } catch (e) {
        this.release();
        if (!(e instanceof ChannelRefused)) throw e;
      }
    }
  }

  /** Closes the connection (a later exec reconnects). */
  close(): void {
    const c = this.client;
    this.client = undefined;
    c?.then((x) => x.end()).catch(() => undefined);
  }
}

/**
 * The node shell under every activity: a command channel per node. SshPool is the real one (SSH,
 * pinned host keys); test/support/fakeShell.ts is a scripted one built from captured real output,
 * so activities and runtimes can be tested without the lab. `exec` resolves with any exit code
 * and throws SshError when the command could not run to its end.
 */
export interface NodeShells {
  session(node: string, ssh: NodeSsh): {
    exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
    openStream(argv: readonly string[]): Promise<{ channel: ClientChannel; exit: Promise<{ code: number | null; stderr: string }> }>;
  };
}

/** One session per node per worker process, keyed by node name and SSH settings. */
export class SshPool implements NodeShells {
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
