/**
 * Restore drill benchmark (issue 14): at each database size, a backup with its off-node copy to a
 * backup host (node4's SSH entry, named `vault`), then a restore drill of that copy; prints the
 * backup's and the drill's wall time and the drill's restore-and-start part. Figures, not assertions.
 *
 * Usage: npm run bench:drill -- [--sizes 100,1024]   (MiB; default 100,1024)
 * Runs on its own lab (ETCD_RUNBOOKS_LAB_ID=7 unless set) and the local Temporal dev server.
 * Results also go to .state/bench/drill-<timestamp>.json.
 */
process.env.ETCD_RUNBOOKS_LAB_ID ??= '7';

import type { DryRunResult } from '../workflows/phases';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { temporalSettings } from '../config/temporal';
import { inventoryDigest } from '../inventory/load';
import { backupCluster, drillRestore } from '../workflows';
import { writeBulk } from '../test/support/cluster';
import { memberClient } from '../test/support/etcd';
import { freshLabWith, INVENTORY, lab } from '../test/support/lab';
import { WorkerProcess } from '../test/support/workerProcess';
import { startSigned } from '../test/support/temporal';
import { makeTestAuthority } from '../test/support/decisions';

const REPO = join(__dirname, '..');

async function main() {
  // The bench's front end key and trust file (as the tests'), inherited by the worker it starts.
  makeTestAuthority();
  const arg = process.argv.indexOf('--sizes');
  const sizes = (arg > 0 ? process.argv[arg + 1] : '100,1024').split(',').map(Number);
  const settings = temporalSettings();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  const rows: Array<{ sizeMiB: number; copyMiB: number; backupSeconds: number; drillSeconds: number; restoreAndStartSeconds: number; passed: boolean }> = [];
  try {
    for (const size of sizes) {
      process.env.ETCD_RUNBOOKS_LAB_QUOTA_BYTES = String(Math.max(2 * 2 ** 30, Math.ceil(size * 2 ** 20 * 1.6)));
      const inv = freshLabWith(4, 1);
      const variant = join(REPO, '.state', `drill-inventory-${process.env.ETCD_RUNBOOKS_LAB_ID}.yaml`);
      const doc = YAML.parse(readFileSync(INVENTORY, 'utf8')) as { nodes: Array<{ name: string; ssh: unknown }> };
      writeFileSync(variant, YAML.stringify({ ...doc, backupHost: { name: 'vault', ssh: doc.nodes.find((n) => n.name === 'node4')!.ssh, dir: '/var/backups/offnode', keep: 2 } }));
      const taskQueue = `bench-drill-${process.pid}-${size}`;
      const worker = new WorkerProcess(taskQueue, variant);
      await worker.start();
      const etcd = memberClient(inv, 'node1');
      try {
        await writeBulk(etcd, 'bulk/', size);
        const base = { cluster: 'lab', inventoryDigest: inventoryDigest(variant) };
        const run = <A extends unknown[], R>(wf: (...a: A) => Promise<R>, ...args: A) =>
          startSigned(client, taskQueue, wf, `bench-${wf.name}-${size}-${Date.now()}`, args[0] as Record<string, unknown>).then((h) => h.result() as Promise<Exclude<R, DryRunResult>>);
        let t = Date.now();
        const b = await run(backupCluster, { ...base, keep: 2 });
        const backupSeconds = (Date.now() - t) / 1000;
        t = Date.now();
        const d = await run(drillRestore, base);
        const drillSeconds = (Date.now() - t) / 1000;
        rows.push({ sizeMiB: size, copyMiB: Math.round(b.sizeBytes / 2 ** 20), backupSeconds, drillSeconds, restoreAndStartSeconds: d.restoreMs / 1000, passed: d.passed });
        console.log(`[bench] ${size} MiB: backup with off-node copy ${backupSeconds.toFixed(1)} s, drill ${drillSeconds.toFixed(1)} s`);
      } finally {
        etcd.close();
        await worker.stop();
      }
    }
  } finally {
    await connection.close();
    lab('down');
  }
  const table = new Table({ head: ['data written (MiB)', 'snapshot (MiB)', 'backup + off-node copy (s)', 'drill (s)', 'of it restore + start (s)', 'passed'] });
  for (const r of rows) table.push([r.sizeMiB, r.copyMiB, r.backupSeconds.toFixed(1), r.drillSeconds.toFixed(1), r.restoreAndStartSeconds.toFixed(1), r.passed ? 'yes' : 'NO']);
  console.log(table.toString());
  mkdirSync(join(REPO, '.state', 'bench'), { recursive: true });
  writeFileSync(join(REPO, '.state', 'bench', `drill-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(rows, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
