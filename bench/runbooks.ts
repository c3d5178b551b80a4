/**
 * Runbooks against their bare-script floor (issue 13, part 1): for each runbook, the runbook and a
 * bash script doing the same etcd steps over one multiplexed SSH connection per node
 * (bench/floor/*.sh) run alternately on the same lab and data, and a table prints the floor and
 * runbook medians, their ratio, min/max, and where the runbook's time goes (per activity type:
 * time in the activity and in its node commands; the rest is orchestration), from the history.
 * Figures, not assertions.
 *
 * Usage: npm run bench -- [--pairs 3] [--size 10] [--only expand,add-member,backup]
 * Runs on its own lab (ETCD_RUNBOOKS_LAB_ID=7 unless set) and the local Temporal dev server.
 * Results also go to .state/bench/runbooks-<timestamp>.json.
 */
process.env.ETCD_RUNBOOKS_LAB_ID ??= '7';

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import Table from 'cli-table3';
import { temporalSettings } from '../config/temporal';
import { inventoryDigest } from '../inventory/load';
import type { Inventory } from '../inventory/schema';
import { backupCluster, expandCluster } from '../workflows';
import { writeBulk } from '../test/support/cluster';
import { memberClient } from '../test/support/etcd';
import { freshLabWith, INVENTORY, lab, LAB_STATE } from '../test/support/lab';
import { WorkerProcess } from '../test/support/workerProcess';
import { breakdown, type RunBreakdown } from './history';

const REPO = join(__dirname, '..');
const FLOOR = join(__dirname, 'floor');

/** One runbook of the bench: its floor script's argv, how to start the runbook, and how to get back to its starting point. */
interface Case { name: string; floor: string[]; runbook: () => Promise<WorkflowHandle>; reset?: string[] }

interface Sample { kind: 'floor' | 'runbook'; seconds: number; breakdown?: RunBreakdown }

/** The shell facts file of bench/floor/lib.sh, from the lab's inventory. */
function writeFacts(inv: Inventory): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [
    `SSH_KEY=${q(inv.nodes[0].ssh.privateKeyPath)}`, `KNOWN_HOSTS=${q(join(LAB_STATE, 'ssh', 'known_hosts'))}`,
    `CA=${q(inv.tls.caFile)}`, `CERT=${q(inv.tls.clientCertFile)}`, `KEY=${q(inv.tls.clientKeyFile)}`,
    `SERVER_CERT=${q(inv.tls.serverCertFile)}`, `SERVER_KEY=${q(inv.tls.serverKeyFile)}`,
    `PEER_CERT=${q(inv.tls.peerCertFile)}`, `PEER_KEY=${q(inv.tls.peerKeyFile)}`,
    `ENV_FILE=${q(inv.systemd.environmentFile)}`, `UNIT=${q(inv.systemd.unit)}`, `BACKUP_DIR=${q(inv.backupDir)}`,
    `NODES=${q(inv.nodes.map((n) => n.name).join(' '))}`,
    ...inv.nodes.flatMap((n) => [
      `ADDR_${n.name}=${q(n.ssh.host)}`, `NAME_${n.name}=${q(n.etcd.memberName)}`, `PEER_${n.name}=${q(n.etcd.peerURL)}`,
      `CLIENT_${n.name}=${q(n.etcd.clientURL)}`, `DATA_${n.name}=${q(n.etcd.dataDir)}`,
    ]),
  ];
  const file = join(LAB_STATE, 'floor.env');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = Math.floor(s.length / 2); return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const secs = (ms: number) => (ms / 1000).toFixed(2);

async function main() {
  const arg = (name: string, dflt: string) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
  const pairs = Number(arg('pairs', '3'));
  const size = Number(arg('size', '10'));
  const only = arg('only', 'expand,add-member,backup').split(',');
  execFileSync(join(REPO, 'scripts', 'temporal-server.sh'), ['start'], { stdio: 'inherit' });
  const settings = temporalSettings();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });

  const t0 = Date.now();
  const inv = freshLabWith(4, 1);
  console.log(`[bench] lab up (4 nodes, 1 member) in ${secs(Date.now() - t0)} s`);
  const facts = writeFacts(inv);
  const etcd = memberClient(inv, 'node1');
  await writeBulk(etcd, 'bulk/', size);
  etcd.close();
  const taskQueue = `bench-${process.pid}`;
  const worker = new WorkerProcess(taskQueue, INVENTORY);
  await worker.start();
  const base = { cluster: inv.cluster, inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'bench' };
  const start = <A extends unknown[], R>(wf: (...a: A) => Promise<R>, ...args: A) =>
    client.workflow.start(wf, { taskQueue, workflowId: `bench-${wf.name}-${Date.now()}`, args });
  const floor = (argv: string[]) => execFileSync(join(FLOOR, argv[0]), argv.slice(1), { env: { ...process.env, FLOOR_ENV: facts }, stdio: ['ignore', 'ignore', 'inherit'] });

  const cases: Case[] = [
    { name: 'expand', floor: ['expand.sh', 'node1', 'node2', 'node3'], runbook: () => start(expandCluster, { ...base, add: ['node2', 'node3'] }), reset: ['shrink.sh', 'node1', 'node2', 'node3'] },
    { name: 'add-member', floor: ['expand.sh', 'node1', 'node4'], runbook: () => start(expandCluster, { ...base, add: ['node4'], allowEvenSize: true }), reset: ['shrink.sh', 'node1', 'node4'] },
    { name: 'backup', floor: ['backup.sh', 'node1', '3'], runbook: () => start(backupCluster, { ...base, keep: 3 }) },
  ].filter((c) => only.includes(c.name));
  const labels: Record<string, string> = { expand: 'expand 1->3', 'add-member': 'add-member 3->4', backup: 'backup' };

  const results: Array<{ name: string; samples: Sample[] }> = [];
  for (const c of cases) {
    // add-member and backup start from 3 members (not measured).
    if (c.name !== 'expand') floor(['expand.sh', 'node1', 'node2', 'node3']);
    const samples: Sample[] = [];
    for (let i = 0; i < pairs; i++) {
      for (const kind of ['floor', 'runbook'] as const) {
        const t = Date.now();
        let b: RunBreakdown | undefined;
        if (kind === 'floor') floor(c.floor);
        else {
          const h = await c.runbook();
          await h.result();
          b = breakdown((await h.fetchHistory()).events ?? []);
        }
        const s: Sample = { kind, seconds: (Date.now() - t) / 1000, ...(b ? { breakdown: b } : {}) };
        samples.push(s);
        console.log(`[bench] ${labels[c.name]} ${kind} ${i + 1}/${pairs}: ${s.seconds.toFixed(2)} s`);
        if (c.reset) floor(c.reset);
      }
    }
    results.push({ name: labels[c.name], samples });
    if (c.name !== 'expand') floor(['shrink.sh', 'node1', 'node2', 'node3']);
  }
  await worker.stop();
  await connection.close();
  lab('down');

  const summary = new Table({ style: { head: [], border: [] }, head: ['runbook', 'floor median s', 'runbook median s', 'ratio', 'floor min/max s', 'runbook min/max s', 'orchestration median s'] });
  const steps = new Table({ style: { head: [], border: [] }, head: ['runbook', 'step (activity)', 'attempts', 'in activity s', 'in node commands s'] });
  for (const r of results) {
    const f = r.samples.filter((s) => s.kind === 'floor').map((s) => s.seconds);
    const rb = r.samples.filter((s) => s.kind === 'runbook');
    const w = rb.map((s) => s.seconds);
    summary.push([r.name, median(f).toFixed(2), median(w).toFixed(2), (median(w) / median(f)).toFixed(2),
      `${Math.min(...f).toFixed(2)} / ${Math.max(...f).toFixed(2)}`, `${Math.min(...w).toFixed(2)} / ${Math.max(...w).toFixed(2)}`,
      secs(median(rb.map((s) => s.breakdown!.orchestrationMs)))]);
    const types = [...new Set(rb.flatMap((s) => s.breakdown!.steps.map((x) => x.type)))];
    const per = (t: string, k: 'count' | 'activityMs' | 'commandMs') => median(rb.map((s) => s.breakdown!.steps.find((x) => x.type === t)?.[k] ?? 0));
    for (const t of types.sort((a, b) => per(b, 'activityMs') - per(a, 'activityMs'))) steps.push([r.name, t, per(t, 'count'), secs(per(t, 'activityMs')), secs(per(t, 'commandMs'))]);
  }
  console.log(`${pairs} pairs per runbook, ${size} MiB of data, etcd 3.6; medians`);
  console.log(summary.toString());
  console.log(steps.toString());
  const dir = join(REPO, '.state', 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `runbooks-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ etcd: '3.6', sizeMiB: size, pairs, results }, null, 2));
  console.log(`results: ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
