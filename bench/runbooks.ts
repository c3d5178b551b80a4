/**
 * Runbooks against their bare-script floor (issue 13): for each runbook, the runbook and a bash
 * script doing the same etcd steps over one multiplexed SSH connection per node (bench/floor/*.sh)
 * run alternately on the same lab and data (bench/cases.ts), and a table prints the floor and
 * runbook medians, their ratio, min/max, failed writes of a steady writer, and where the runbook's
 * time goes (per activity type: time in the activity and in its node commands; the rest is
 * orchestration), from the history. Then CLI latency, the SSH command round trip, the time lost per worker crash (SIGKILL at a
 * random point of expand 1->3, a new worker started at once) and the worker's peak RSS.
 * Figures, not assertions.
 *
 * Usage: npm run bench -- [--pairs 3] [--size 10] [--only expand,add-member,replace,migrate,restore,recover-quorum,defrag,rotate-certs,upgrade,backup] [--crashes 3]
 * Runs on its own lab (ETCD_RUNBOOKS_LAB_ID=7 unless set) and the local Temporal dev server.
 * Results also go to .state/bench/runbooks-<timestamp>.json.
 */
process.env.ETCD_RUNBOOKS_LAB_ID ??= '7';

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { temporalSettings } from '../config/temporal';
import { inventoryDigest, loadInventoryFile } from '../inventory/load';
import { writeBulk } from '../test/support/cluster';
import { memberClient } from '../test/support/etcd';
import { freshLabWith, INVENTORY, lab } from '../test/support/lab';
import { headNodeCA } from '../test/support/inventoryEdit';
import { stageRelease } from '../test/support/releases';
import { startWriter } from '../test/support/writer';
import { WorkerProcess } from '../test/support/workerProcess';
import { CASES, UPGRADE_FROM, UPGRADE_TO, type Case, type Script, type Starter } from './cases';
import { cliLatency, peakRssMiB, sshRoundTrip } from './extras';
import { breakdown, resumedAfterMs } from './history';
import { printReport, type CaseResult, type CrashSample, type Sample } from './report';
import { writeFacts } from './facts';
import { median, secs } from './stats';
import { startSigned } from '../test/support/temporal';
import { makeTestAuthority } from '../test/support/decisions';

const REPO = join(__dirname, '..');
const FLOOR = join(__dirname, 'floor');

async function main() {
  // The bench's front end key and trust file (as the tests'), inherited by the worker it starts.
  makeTestAuthority();
  const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
  const pairs = Number(arg('pairs', '3'));
  const size = Number(arg('size', '10'));
  const crashes = Number(arg('crashes', '3'));
  const only = arg('only', 'expand,add-member,replace,migrate,restore,recover-quorum,defrag,rotate-certs,upgrade,backup').split(',');
  const cases = CASES.filter((c) => only.some((o) => c.name.startsWith(o)));
  execFileSync(join(REPO, 'scripts', 'temporal-server.sh'), ['start'], { stdio: 'inherit' });
  const settings = temporalSettings();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });

  const t0 = Date.now();
  freshLabWith(4, 1);
  headNodeCA(INVENTORY); // rotate-certs signs with the lab's CA, copied to the worker host
  // upgrade finds its releases under systemd.releasesDir on every node; staged before the worker reads the inventory.
  if (cases.some((c) => c.name === 'upgrade')) for (const v of [UPGRADE_FROM, UPGRADE_TO]) stageRelease(INVENTORY, ['node1', 'node2', 'node3'], v);
  const inv = loadInventoryFile(INVENTORY);
  console.log(`[bench] lab up (4 nodes, 1 member) in ${secs(Date.now() - t0)} s`);
  const facts = writeFacts(inv);
  const etcd = memberClient(inv, 'node1');
  await writeBulk(etcd, 'bulk/', size);
  const taskQueue = `bench-${process.pid}`;
  let worker = new WorkerProcess(taskQueue, INVENTORY);
  await worker.start();
  // A bench that ends on an error must not leave its worker polling (it would take a later bench's tasks).
  process.on('exit', () => { try { if (worker.pid) process.kill(worker.pid, 'SIGKILL'); } catch { /* gone already */ } });
  let peakRss = 0;
  const notePeak = () => { peakRss = Math.max(peakRss, peakRssMiB(worker.pid) ?? 0); };
  const base = { cluster: inv.cluster, inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'bench' };
  const start: Starter = (wf, fields) => startSigned(client, taskQueue, wf as never, `bench-${wf.name}-${Date.now()}`, { ...base, ...fields });
  const floor = (argv: Script) => execFileSync(join(FLOOR, argv[0]), argv.slice(1), { env: { ...process.env, FLOOR_ENV: facts }, stdio: ['ignore', 'ignore', 'inherit'] });
  // The measured floor runs without blocking the event loop, so the steady writer keeps writing.
  const floorAsync = (argv: Script) => promisify(execFile)(join(FLOOR, argv[0]), argv.slice(1), { env: { ...process.env, FLOOR_ENV: facts } });
  const finish = async (h: WorkflowHandle) => { await h.result(); return breakdown((await h.fetchHistory()).events ?? []); };

  // A round that fails (or leaves the lab where its reset cannot start) is recorded and the lab
  // rebuilt from one member: etcd itself occasionally keeps a joining learner from publishing.
  const rebuild = (c: Case, why: unknown) => {
    console.log(`[bench] ${c.name}: ${String((why as Error).message ?? why).split('\n')[0].slice(0, 200)}; rebuilding the lab from node1`);
    floor(['shrink.sh', 'node1', 'node2', 'node3', 'node4']);
    c.setup.forEach(floor);
  };
  const results: CaseResult[] = [];
  for (const c of cases) {
    try {
      results.push({ name: c.name, samples: await runCase(c) });
    } catch (e) {
      console.log(`[bench] ${c.name}: given up (${String((e as Error).message ?? e).split('\n')[0].slice(0, 200)})`);
      try {
        floor(['shrink.sh', 'node1', 'node2', 'node3', 'node4']);
      } catch (again) {
        console.log(`[bench] ${c.name}: the lab could not be brought back to node1 (${String((again as Error).message).split('\n')[0].slice(0, 200)}); the next cases start from where it is`);
      }
    }
  }

  async function runCase(c: Case): Promise<Sample[]> {
    c.setup.forEach(floor);
    const samples: Sample[] = [];
    for (let i = 0; i < pairs; i++) {
      for (const kind of ['floor', 'runbook'] as const) {
        try {
          c.before.forEach(floor);
        } catch (e) {
          rebuild(c, e);
          c.before.forEach(floor);
        }
        const w = c.writer ? startWriter(etcd, `bench-writer/${c.name}/${kind}/${i}/`, 20) : undefined;
        const t = Date.now();
        let b: Awaited<ReturnType<typeof finish>> | undefined;
        let error: string | undefined;
        try {
          b = kind === 'floor' ? (await floorAsync(c.floor), undefined) : await finish(await c.runbook(start));
        } catch (e) {
          error = String((e as Error).message ?? e).split('\n')[0].slice(0, 300);
        }
        const seconds = (Date.now() - t) / 1000;
        const written = await w?.stop();
        notePeak();
        samples.push({ kind, seconds, ...(b ? { breakdown: b } : {}), ...(error ? { error } : {}), ...(written ? { writes: written.writes, failedWrites: written.errors.length, writeErrors: [...new Set(written.errors)].slice(0, 3) } : {}) });
        console.log(`[bench] ${c.name} ${kind} ${i + 1}/${pairs}: ${error ? `FAILED after ${seconds.toFixed(2)} s (${error})` : `${seconds.toFixed(2)} s`}${written ? `, ${written.errors.length} of ${written.writes + written.errors.length} writes failed` : ''}`);
        try {
          if (error) throw new Error(`round failed: ${error}`);
          c.reset.forEach(floor);
        } catch (e) {
          rebuild(c, e);
        }
      }
    }
    c.teardown.forEach(floor);
    return samples;
  }

  // Time lost per worker crash: expand 1->3 with the worker killed at a random point and a new one
  // started at once (as systemd's Restart= would), against the median of the uninterrupted runs.
  const crashSamples: CrashSample[] = [];
  const expand = results.find((r) => r.name === 'expand 1->3');
  if (crashes > 0 && expand) {
    const normal = median(expand.samples.filter((s) => s.kind === 'runbook').map((s) => s.seconds));
    const expandCase = CASES[0] as Case;
    for (let i = 0; i < crashes; i++) {
      const killAt = 0.5 + Math.random() * Math.max(0.5, normal - 1.5);
      const t = Date.now();
      const h = await expandCase.runbook(start);
      await sleep(killAt * 1000);
      notePeak();
      const killedAt = Date.now();
      await worker.kill();
      worker = new WorkerProcess(taskQueue, INVENTORY);
      await worker.start();
      await h.result();
      const seconds = (Date.now() - t) / 1000;
      const resumed = resumedAfterMs((await h.fetchHistory()).events ?? [], killedAt, `${worker.pid}@`);
      crashSamples.push({ killAtSeconds: killAt, seconds, lostSeconds: (resumed ?? NaN) / 1000, overMedianSeconds: seconds - normal });
      console.log(`[bench] worker killed ${killAt.toFixed(2)} s into expand 1->3: the run moved again ${secs(resumed ?? NaN)} s later on the new worker; ${seconds.toFixed(2)} s in all (${(seconds - normal).toFixed(2)} s over the median)`);
      expandCase.reset.forEach(floor);
    }
  }
  const cli = cliLatency(INVENTORY, taskQueue);
  const ssh = await sshRoundTrip(INVENTORY);
  notePeak();
  etcd.close();
  await worker.stop();
  await connection.close();
  lab('down');

  printReport({ pairs, size, results, crashes: crashSamples, cli, ssh, workerPeakRssMiB: peakRss });
  const dir = join(REPO, '.state', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `runbooks-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ etcd: '3.6', sizeMiB: size, pairs, results, crashes: crashSamples, cli, ssh, workerPeakRssMiB: peakRss }, null, 2));
  console.log(`results: ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
