import type { Inventory, InventoryNode } from '../inventory/schema';
import { nodeByName } from '../inventory/schema';
import type { CommandRecord } from './audit';
import { CommandFailedError, WaitTimeoutError } from './errors';
import type { ExecOptions, ExecResult, SshPool } from './ssh/session';

/** Default etcdctl timeouts: dial 2 s, command 10 s (etcdctl flags --dial-timeout, --command-timeout). */
const DIAL_TIMEOUT = '2s';
const COMMAND_TIMEOUT = '10s';
/** For per-endpoint probes (status, health, hashkv): a dead member costs this much, not 10 s. */
export const PROBE_TIMEOUT = '3s';

/**
 * What one activity invocation works with: the cluster's inventory (loaded on the worker), the
 * worker's SSH sessions, and the list of commands run so far (returned for the audit trail).
 */
export class ClusterOps {
  readonly commands: CommandRecord[] = [];

  constructor(readonly inv: Inventory, private readonly pool: SshPool, private readonly tick?: () => void) {}

  node(name: string): InventoryNode {
    return nodeByName(this.inv, name);
  }

  /** Runs argv on a node; resolves with any exit code. Records the command. Throws SshError if it could not run. */
  async run(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const n = this.node(node);
    try {
      const r = await this.pool.session(n.name, n.ssh).exec(argv, { onTick: this.tick, ...opts });
      this.commands.push(r.record);
      return r;
    } catch (e) {
      const rec = (e as { record?: CommandRecord }).record;
      if (rec) this.commands.push(rec);
      throw e;
    }
  }

  /** Like run, but a non-zero exit raises CommandFailedError. */
  async runOk(node: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.run(node, argv, opts);
    if (r.exitCode !== 0) throw new CommandFailedError(r.record, r.stderr);
    return r;
  }

  /** argv for etcdctl (API v3) against `endpoints`, authenticating with the inventory's client certificate. */
  etcdctlArgv(endpoints: readonly string[], args: readonly string[], commandTimeout = COMMAND_TIMEOUT): string[] {
    const t = this.inv.tls;
    return [
      'env', 'ETCDCTL_API=3', 'etcdctl',
      `--endpoints=${endpoints.join(',')}`,
      `--cacert=${t.caFile}`, `--cert=${t.clientCertFile}`, `--key=${t.clientKeyFile}`,
      `--dial-timeout=${DIAL_TIMEOUT}`, `--command-timeout=${commandTimeout}`,
      ...args,
    ];
  }

  /** Runs etcdctl on `node` (any exit code). */
  etcdctl(node: string, endpoints: readonly string[], args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.run(node, this.etcdctlArgv(endpoints, args), { timeoutMs: 30_000, ...opts });
  }

  /** etcdctl with the short probe timeout, for reads that ask each endpoint in turn. */
  etcdctlProbe(node: string, endpoints: readonly string[], args: readonly string[]): Promise<ExecResult> {
    return this.run(node, this.etcdctlArgv(endpoints, args, PROBE_TIMEOUT), { timeoutMs: 30_000 });
  }

  /** Records a heartbeat for the running activity (no-op outside one). */
  heartbeat(): void {
    this.tick?.();
  }

  /**
   * Polls `check` every `intervalMs` until it returns a value (not undefined), heartbeating
   * between polls. Throws WaitTimeoutError with `describe()` after `timeoutMs`.
   */
  async waitFor<T>(what: string, timeoutMs: number, intervalMs: number, check: () => Promise<T | undefined>, describe: () => string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new WaitTimeoutError(`${what}: not reached within ${Math.round(timeoutMs / 1000)} s (${describe()})`);
      this.heartbeat();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  /** Client URLs of every node in the inventory. */
  allClientURLs(): string[] {
    return this.inv.nodes.map((n) => n.etcd.clientURL);
  }
}
