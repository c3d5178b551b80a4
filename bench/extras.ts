import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeSession } from '../activities/ssh/session';
import { loadInventoryFile } from '../inventory/load';
import { median } from './stats';

const CLI = join(__dirname, '..', 'bin', 'etcd-runbooks');

/** Median wall time (s) of one CLI invocation, over `times` runs, and its exit code. */
export interface CliLatency { what: string; argv: string[]; medianSeconds: number; minSeconds: number; maxSeconds: number; exitCode: number | null }

/**
 * CLI latency as a user sees it (process start to exit): `--help`, `status` of the lab cluster
 * (through the bench's worker) and an input the zod schema refuses. `times` runs each.
 */
export function cliLatency(inventory: string, taskQueue: string, times = 5): CliLatency[] {
  const cases: Array<[string, string[]]> = [
    ['--help', ['--help']],
    ['status', ['status', '-i', inventory]],
    ['refused input (bad node name)', ['add-member', '-i', inventory, '--node', 'Node_1', '--yes']],
  ];
  return cases.map(([what, argv]) => {
    const secs: number[] = [];
    let exitCode: number | null = null;
    for (let i = 0; i < times; i++) {
      const t = process.hrtime.bigint();
      exitCode = spawnSync(CLI, argv, { env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: taskQueue }, stdio: 'ignore' }).status;
      secs.push(Number(process.hrtime.bigint() - t) / 1e9);
    }
    return { what, argv, medianSeconds: median(secs), minSeconds: Math.min(...secs), maxSeconds: Math.max(...secs), exitCode };
  });
}

/** Round trip (ms) of one short command (`true`) over the worker's kind of SSH session, connection already open. */
export interface SshRoundTrip { node: string; medianMs: number; minMs: number; maxMs: number; n: number }

/**
 * Round trip of `true` on the inventory's first node through a NodeSession (activities/ssh):
 * the fixed cost every node command of a runbook pays. `times` commands after one warm-up.
 */
export async function sshRoundTrip(inventory: string, times = 20): Promise<SshRoundTrip> {
  const node = loadInventoryFile(inventory).nodes[0];
  const session = new NodeSession(node.name, node.ssh);
  try {
    await session.exec(['true']);
    const ms: number[] = [];
    for (let i = 0; i < times; i++) {
      const t = process.hrtime.bigint();
      await session.exec(['true']);
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    return { node: node.name, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), n: times };
  } finally {
    session.close();
  }
}

/** The process's peak resident set (VmHWM) in MiB, or undefined once it has exited. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
