import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
