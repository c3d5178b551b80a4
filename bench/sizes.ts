/**
 * Size benchmark (issue 8): expand 1->3, replace, migrate and restore on etcd 3.6 at several
 * database sizes, printing per runbook: wall time, the worker's peak RSS, bytes moved over the lab
 * network, and failed writes of a steady writer. Figures, not assertions.
 *
 * Usage: npm run bench:sizes -- [--sizes 10,100,1024,4096]   (MiB; default 10,100,1024)
 * Runs on its own lab (ETCD_RUNBOOKS_LAB_ID=7 unless set) and the local Temporal dev server.
 * Results also go to .state/bench/sizes-<timestamp>.json.
 */
process.env.ETCD_RUNBOOKS_LAB_ID ??= '7';

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import Table from 'cli-table3';
import type { Etcd3 } from 'etcd3';
import { temporalSettings } from '../config/temporal';
import { inventoryDigest } from '../inventory/load';
import { backupCluster, expandCluster, migrateMember, replaceMember, restoreCluster } from '../workflows';
import { writeBulk } from '../test/support/cluster';
import { memberClient } from '../test/support/etcd';
import { freshLabWith, INVENTORY, lab } from '../test/support/lab';
import { WorkerProcess } from '../test/support/workerProcess';
import { startWriter } from '../test/support/writer';
import { startSigned } from '../test/support/temporal';
import { makeTestAuthority } from '../test/support/decisions';

const REPO = join(__dirname, '..');

interface Row { sizeMiB: number; runbook: string; seconds: number; workerPeakRssMiB: number; movedMiB: number; writes: number; failedWrites: number; ok: boolean; error?: string }

/** Host-side receive counters of every lab node's veth: what the nodes sent (SSH, peer and client traffic). */
function networkBytes(): number {
  const suffix = process.env.ETCD_RUNBOOKS_LAB_ID === '0' ? '' : process.env.ETCD_RUNBOOKS_LAB_ID;
  return readFileSync('/proc/net/dev', 'utf8').split('\n')
    .map((l) => l.trim().split(/[:\s]+/))
    .filter((f) => new RegExp(`^node\\d+-h${suffix}$`).test(f[0]))
    .reduce((sum, f) => sum + Number(f[1]), 0);
}

/** Samples the worker's resident set every 200 ms; stop() returns the peak in MiB. */
function rssSampler(pid: number) {
  let peak = 0;
  const t = setInterval(() => {
    try {
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb / 1024);
    } catch {
      // the worker restarted
    }
  }, 200);
  return { stop: () => { clearInterval(t); return Math.round(peak); } };
}

/**
 * Polls the run's pending activities every second and keeps the largest learner catch-up progress
 * its heartbeats carried (what `watch` prints as bytes, rate and ETA). stop() describes it.
 */
function watchLearnerBytes(h: WorkflowHandle) {
  let best = { bytes: 0, totalBytes: 0, rate: 0, eta: undefined as number | undefined, samples: 0 };
  const t = setInterval(async () => {
    try {
      for (const a of (await h.describe()).raw.pendingActivities ?? []) {
        const p = a.heartbeatDetails?.payloads?.[0];
        if (a.activityType?.name !== 'learnerProgress' || !p) continue;
        const d = defaultPayloadConverter.fromPayload<{ bytes?: number; totalBytes?: number; rateBytesPerSec?: number; etaSeconds?: number }>(p as never);
        best.samples++;
        if ((d.bytes ?? 0) >= best.bytes) best = { ...best, bytes: d.bytes ?? 0, totalBytes: d.totalBytes ?? 0, rate: d.rateBytesPerSec ?? 0, eta: d.etaSeconds };
      }
    } catch {
      // closed
    }
  }, 1000);
  return {
    stop: () => {
      clearInterval(t);
      return best.samples ? `${best.samples} samples, up to ${(best.bytes / 2 ** 20).toFixed(0)} of ${(best.totalBytes / 2 ** 20).toFixed(0)} MiB at ${(best.rate / 2 ** 20).toFixed(1)} MiB/s${best.eta !== undefined ? `, ETA ${best.eta} s` : ''}` : 'none (catch-up shorter than a heartbeat)';
    },
  };
}

async function main() {
  // The bench's front end key and trust file (as the tests'), inherited by the worker it starts.
  makeTestAuthority();
  const arg = process.argv.indexOf('--sizes');
  const sizes = (arg > 0 ? process.argv[arg + 1] : '10,100,1024').split(',').map(Number);
  execFileSync(join(REPO, 'scripts', 'temporal-server.sh'), ['start'], { stdio: 'inherit' });
  const settings = temporalSettings();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const rows: Row[] = [];
  for (const size of sizes) {
    const quota = Math.max(2 * 2 ** 30, Math.ceil(size * 2 ** 20 * 1.6));
    process.env.ETCD_RUNBOOKS_LAB_QUOTA_BYTES = String(quota);
    const inv = freshLabWith(4, 1);
    const taskQueue = `bench-${process.pid}-${size}`;
    const worker = new WorkerProcess(taskQueue, INVENTORY);
    await worker.start();
    const clients: Etcd3[] = [];
    const etcd = (node: string) => { const c = memberClient(inv, node); clients.push(c); return c; };
    const t0 = Date.now();
    await writeBulk(etcd('node1'), 'bulk/', size);
    console.log(`[bench] ${size} MiB written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const base = { cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'bench' };
    const start = <A extends unknown[], R>(wf: (...a: A) => Promise<R>, ...args: A) =>
      startSigned(client, taskQueue, wf, `bench-${wf.name}-${size}-${Date.now()}`, args[0] as Record<string, unknown>);
    const measure = async (runbook: string, run: () => Promise<unknown>) => {
      const writer = startWriter(etcd('node1'), `w-${runbook}/`, 20);
      const rss = rssSampler(worker.pid!);
      const net = networkBytes();
      const t = Date.now();
      let error: string | undefined;
      try {
        await run();
      } catch (e) {
        error = (e as Error).message;
      }
      const seconds = (Date.now() - t) / 1000;
      const w = await writer.stop();
      const row: Row = { sizeMiB: size, runbook, seconds, workerPeakRssMiB: rss.stop(), movedMiB: Math.round((networkBytes() - net) / 2 ** 20), writes: w.writes, failedWrites: w.errors.length, ok: !error, ...(error ? { error } : {}) };
      rows.push(row);
      console.log(`[bench] ${JSON.stringify(row)}`);
    };
    await measure('expand 1->3', async () => {
      const h = await start(expandCluster, { ...base, add: ['node2', 'node3'] });
      const seen = watchLearnerBytes(h);
      try {
        return await h.result();
      } finally {
        console.log(`[bench] ${size} MiB: learner catch-up progress seen in heartbeats: ${seen.stop()}`);
      }
    });
    await measure('replace', async () => {
      lab('crash', 'node3');
      lab('wipe', 'node3');
      lab('start', 'node3');
      return (await start(replaceMember, { ...base, failed: 'node3' })).result();
    });
    await measure('migrate', async () => (await start(migrateMember, { ...base, from: 'node3', to: 'node4' })).result());
    const backup = await (await start(backupCluster, { ...base, keep: 1 })).result();
    const members = ['node1', 'node2', 'node4'];
    const restoreOn = members.find((n) => n !== backup.node)!;
    await measure('restore', async () => (await start(restoreCluster, { ...base, snapshot: { node: backup.node, path: backup.path }, restoreOn, members: [restoreOn, ...members.filter((n) => n !== restoreOn)] })).result());
    clients.forEach((c) => c.close());
    await worker.stop();
  }
  await connection.close();
  lab('down');

  const table = new Table({ style: { head: [], border: [] }, head: ['db MiB', 'runbook', 'wall s', 'worker peak RSS MiB', 'moved MiB', 'failed writes', 'ok'] });
  for (const r of rows) table.push([r.sizeMiB, r.runbook, r.seconds.toFixed(1), r.workerPeakRssMiB, r.movedMiB, `${r.failedWrites} of ${r.writes + r.failedWrites}`, r.ok ? 'yes' : `NO: ${r.error?.slice(0, 60)}`]);
  console.log(table.toString());
  const dir = join(REPO, '.state', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `sizes-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ etcd: '3.6', rows }, null, 2));
  console.log(`results: ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
