import type { Inventory, InventoryNode } from '../inventory/schema';
import { nodeByName, sshTarget } from '../inventory/schema';
import { Transform } from 'node:stream';
import { CancelledFailure } from '@temporalio/common';
import { CommandLog, excerpt, type CommandRecord } from './audit';
import { CommandFailedError, WaitTimeoutError } from './errors';
import { SshError, type ExecOptions, type ExecResult, type NodeShells } from './ssh/session';

/** Default etcdctl timeouts: dial 2 s, command 10 s (etcdctl flags --dial-timeout, --command-timeout). */
const DIAL_TIMEOUT = '2s';
const COMMAND_TIMEOUT = '10s';
/** For per-endpoint probes (status, health, hashkv): a dead member costs this much, not 10 s. */
export const PROBE_TIMEOUT = '3s';

/**
 * How long a wait (waitFor) keeps polling through SSH failures in a row (ms): a cut connection is
 * reopened on the next poll, while a node whose SSH stays down fails the wait within this time
 * (the keepalives notice a dead connection in about 6 s), not at the wait's own deadline.
 */
export const WAIT_SSH_BLIP_MS = 10_000;

/**
 * argv for etcdctl against `endpoints` with the client certificate `t` names (paths on the node):
 * dial timeout 2 s, command timeout `commandTimeout` (null: none). Used by ClusterOps, and by
 * `inventory discover` before there is an inventory.
 */
export function etcdctlCommand(t: { caFile: string; clientCertFile: string; clientKeyFile: string }, endpoints: readonly string[], args: readonly string[],
  commandTimeout: string | null = COMMAND_TIMEOUT): string[] {
  return [
    'etcdctl',
    `--endpoints=${endpoints.join(',')}`,
    `--cacert=${t.caFile}`, `--cert=${t.clientCertFile}`, `--key=${t.clientKeyFile}`,
    `--dial-timeout=${DIAL_TIMEOUT}`, ...(commandTimeout === null ? [] : [`--command-timeout=${commandTimeout}`]),
    ...args,
  ];
}

/**
 * What one activity invocation works with: the cluster's inventory (loaded on the worker), the
 * node shell (the worker's SSH sessions; a scripted fake in fast tests), and the list of commands run so far (returned for the audit trail).
 */
export class ClusterOps {
  readonly commands = new CommandLog();
  private lastDetails: unknown;

  /** `onRecord`: called with each command's record once it ran (the worker's command journal). */
  constructor(readonly inv: Inventory, private readonly pool: NodeShells, private readonly tick?: (details?: unknown) => void, private readonly cancelled?: () => boolean,
    private readonly onRecord?: (r: CommandRecord) => void) {}

  private record(r: CommandRecord): void {
    this.commands.push(r);
    this.onRecord?.(r);
  }

  node(name: string): InventoryNode {
    return nodeByName(this.inv, name);
  }

  /** Runs argv on a node; resolves with any exit code. Records the command. Throws SshError if it could not run. */
  async run(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    // A cancelled run must not go on acting: stop before the next command (the workflow waits for this).
    if (this.cancelled?.()) throw new CancelledFailure('activity cancelled before its next command');
    const n = sshTarget(this.inv, node);
    try {
      const r = await this.pool.session(n.name, n.ssh).exec(argv, { onTick: this.tick ? () => this.tick?.(this.lastDetails) : undefined, ...opts });
      this.record(r.record);
      return r;
    } catch (e) {
      const rec = (e as { record?: CommandRecord }).record;
      if (rec) this.record(rec);
      throw e;
    }
  }

  /** Like run, but a non-zero exit raises CommandFailedError. */
  async runOk(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.run(node, argv, opts);
    if (r.exitCode !== 0) throw new CommandFailedError(r.record, r.stderr);
    return r;
  }

  /**
   * argv for etcdctl against `endpoints`, authenticating with the inventory's client certificate.
   * No ETCDCTL_API: API v3 is the default from 3.4 on, and etcdctl 3.6 warns about the variable.
   * `commandTimeout` null leaves --command-timeout out: `snapshot save` then has no etcdctl timeout
   * (3.5 and 3.6 apply the flag to it only when it is given; the SSH command's timeout bounds it).
   */
  etcdctlArgv(endpoints: readonly string[], args: readonly string[], commandTimeout: string | null = COMMAND_TIMEOUT): string[] {
    return etcdctlCommand(this.inv.tls, endpoints, args, commandTimeout);
  }

  /** Runs etcdctl on `node` (any exit code). */
  etcdctl(node: string, endpoints: readonly string[], args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(node, this.etcdctlArgv(endpoints, args), { timeoutMs: 30_000, ...opts });
  }

  /** etcdctl with the short probe timeout, for reads that ask each endpoint in turn. */
  etcdctlProbe(node: string, endpoints: readonly string[], args: readonly string[]): Promise<ExecResult> {
    return this.run(node, this.etcdctlArgv(endpoints, args, PROBE_TIMEOUT), { timeoutMs: 30_000 });
  }

  /**
   * Records a heartbeat for the running activity, with progress details if given (no-op outside
   * one). The last details given are repeated by later heartbeats (those of running commands too),
   * so the progress the CLI shows is not overwritten by an empty heartbeat.
   */
  heartbeat(details?: unknown): void {
    if (details !== undefined) this.lastDetails = details;
    this.tick?.(this.lastDetails);
  }

  /**
   * Streams the stdout of `src.argv` on `src.node` into the stdin of `dst.argv` on `dst.node`
   * through the worker (two SSH channels, backpressure kept, nothing buffered beyond a chunk), with
   * a heartbeat carrying bytes, rate and ETA about every second. Fails (SshError) when no byte
   * moves for `stallMs`, and (CommandFailedError) when either side exits non-zero.
   */
  async pipe(src: { node: string; argv: string[] }, dst: { node: string; argv: string[] }, totalBytes: number, stallMs = 60_000): Promise<{ bytes: number; seconds: number }> {
    const started = Date.now();
    const open = async (node: string, argv: string[]) => this.pool.session(node, sshTarget(this.inv, node).ssh).openStream(argv);
    // The reader opens last and is piped at once: a short file can be sent and its channel closed
    // before a later await returns, and a closed channel's unread data is lost.
    const b = await open(dst.node, dst.argv);
    b.channel.resume();
    const a = await open(src.node, src.argv);
    let bytes = 0;
    let lastMove = Date.now();
    let stalled: string | undefined;
    const counter = new Transform({ transform(chunk: Buffer, _enc, cb) { bytes += chunk.length; lastMove = Date.now(); cb(null, chunk); } });
    const broken = (e: Error) => { stalled ??= e.message; a.channel.close(); b.channel.close(); };
    for (const st of [a.channel, counter, b.channel]) st.on('error', broken);
    // The writer side ending early (a full disk) must stop the reader too.
    void b.exit.then(() => a.channel.close());
    a.channel.pipe(counter).pipe(b.channel);
    const report = () => {
      const seconds = (Date.now() - started) / 1000;
      const rate = seconds > 0 ? Math.round(bytes / seconds) : 0;
      this.heartbeat({ bytes, totalBytes, rateBytesPerSec: rate, etaSeconds: rate > 0 ? Math.round((totalBytes - bytes) / rate) : undefined });
    };
    const timer = setInterval(() => {
      report();
      if (Date.now() - lastMove > stallMs || this.cancelled?.()) { stalled = this.cancelled?.() ? 'cancelled' : `no data moved for ${stallMs / 1000} s`; a.channel.close(); b.channel.close(); }
    }, 1000);
    const rec = (node: string, argv: string[], code: number | null, stderr: string, error?: string): CommandRecord => ({
      node, argv, exitCode: code, stdout: '', stderr: code === 0 && !error ? '' : excerpt(stderr), startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, ...(error ? { error } : {}),
    });
    const [ea, eb] = await Promise.all([a.exit, b.exit]).finally(() => clearInterval(timer));
    const failure = stalled;
    const ra = rec(src.node, src.argv, ea.code, ea.stderr, failure);
    const rb = rec(dst.node, dst.argv, eb.code, eb.stderr, failure);
    this.commands.push(ra);
    this.commands.push(rb);
    if (failure) throw new SshError(`copy ${src.node} -> ${dst.node} stopped after ${bytes} bytes: ${failure}`, rb);
    if (ea.code !== 0) throw new CommandFailedError(ra, ea.stderr);
    if (eb.code !== 0) throw new CommandFailedError(rb, eb.stderr);
    report();
    return { bytes, seconds: (Date.now() - started) / 1000 };
  }

  /**
   * Polls `check` every `intervalMs` until it returns a value (not undefined), heartbeating
   * between polls. Throws WaitTimeoutError with `describe()` after `timeoutMs`. A poll that fails
   * with SshError counts as "not yet" until SSH has failed for WAIT_SSH_BLIP_MS in a row; then
   * that SshError is thrown. SSH loss is not etcd loss: a cut connection must not end the wait.
   */
  async waitFor<T>(what: string, timeoutMs: number, intervalMs: number, check: () => Promise<T | undefined>, describe: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let sshFailingSince: number | undefined;
    for (;;) {
      let v: T | undefined;
      try {
        v = await check();
        sshFailingSince = undefined;
      } catch (e) {
        if (!(e instanceof SshError)) throw e;
        sshFailingSince ??= Date.now();
        if (Date.now() - sshFailingSince >= WAIT_SSH_BLIP_MS || Date.now() > deadline) throw e;
      }
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new WaitTimeoutError(`${what}: not reached within ${Math.round(timeoutMs / 1000)} s (${describe()})`);
      this.heartbeat();
      await new Promise((r) => setTimeout(r, intervalMs));
      if (this.cancelled?.()) throw new CancelledFailure('activity cancelled while waiting');
    }
  }

  /** Client URLs of every node in the inventory. */
  allClientURLs(): string[] {
    return this.inv.nodes.map((n) => n.etcd.clientURL);
  }
}
