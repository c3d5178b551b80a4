/**
 * One worker watching many clusters (issue "watch every cluster", item 5): three labs of 7 nodes
 * (ETCD_RUNBOOKS_LAB_ID 2, 3, 4), every node a 1-member etcd cluster of its own with an inventory
 * of its own (21 clusters); one worker process (bin/etcd-runbooks worker, ETCD_RUNBOOKS_WATCH=on)
 * reads the inventory directory and keeps a watch per cluster, probing every 15 s. After a warm-up
 * it measures, over the window: the worker's CPU (utime + stime from /proc) and RSS, and from the
 * watches' histories each probe's duration, history events and bytes, and Temporal actions
 * (activities and timers scheduled, runs started or continued). Prints per-cluster figures and
 * what they come to per hour and per day. Figures, not assertions; also written to
 * .state/bench/watch-<timestamp>.json.
 * Usage: npm run build && npm run bench:watch [-- --minutes 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { temporalSettings } from '../config/temporal';
import { watchId } from '../service/ids';
import { WorkerProcess } from '../test/support/workerProcess';
import { median } from './stats';

const LABS = ['2', '3', '4'];
const NODES = 7;
const INTERVAL_S = 15;
const REPO = join(__dirname, '..');
const LAB = join(REPO, 'lab', 'lab');
const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lab = (id: string, ...args: string[]) => execFileSync(LAB, args, { encoding: 'utf8', env: { ...process.env, ETCD_RUNBOOKS_LAB_ID: id }, stdio: ['pipe', 'pipe', 'inherit'] });
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))];

/** Turns lab node `node` (etcd installed, not a member) into a 1-member cluster of its own, as the lab bootstraps node1. */
function ownCluster(id: string, node: string, base: string) {
  const env = base.replace(/^ETCD_NAME=.*$/m, `ETCD_NAME=${node}`);
  execFileSync(LAB, ['ssh', node, `cat > /etc/default/etcd && systemctl enable etcd.service >/dev/null 2>&1 && systemctl start etcd.service`], { input: env, env: { ...process.env, ETCD_RUNBOOKS_LAB_ID: id }, stdio: ['pipe', 'inherit', 'inherit'] });
}

/** The worker's CPU seconds (user + system) and RSS bytes, from /proc. */
function usage(pid: number): { cpuS: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const tick = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  return { cpuS: (Number(stat[11]) + Number(stat[12])) / tick, rss: rssKb * 1024 };
}

const ms = (t: temporal.api.history.v1.IHistoryEvent['eventTime']) => (t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : 0);
const T = temporal.api.enums.v1.EventType;

/** Per watch: probes completed in [from, to], their durations (ms), and the events, bytes and actions of the history they span. */
async function watchFigures(client: Client, cluster: string, from: number, to: number) {
  const durations: number[] = [];
  let events = 0; let bytes = 0; let actions = 0;
  for await (const w of client.workflow.list({ query: `WorkflowId = "${watchId(cluster)}"` })) {
    const h = await client.workflow.getHandle(w.workflowId, w.runId).fetchHistory();
    const scheduled = new Map<string, number>();
    for (const e of h.events ?? []) {
      const at = ms(e.eventTime);
      if (at < from || at > to) continue;
      events++;
      bytes += temporal.api.history.v1.HistoryEvent.encode(e).finish().length;
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED || e.eventType === T.EVENT_TYPE_TIMER_STARTED || e.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED) actions++;
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) scheduled.set(String(e.eventId), at);
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
        const s = scheduled.get(String(e.activityTaskCompletedEventAttributes?.scheduledEventId));
        if (s !== undefined) durations.push(at - s);
      }
    }
  }
  return { durations, events, bytes, actions };
}

async function main() {
  const minutes = arg('minutes', 5);
  const dir = mkdtempSync(join(tmpdir(), 'bench-watch-'));
  const clusters: string[] = [];
  for (const id of LABS) {
    lab(id, 'down');
    const t0 = Date.now();
    lab(id, 'up', '--nodes', String(NODES), '--members', '1');
    const inv = YAML.parse(readFileSync(lab(id, 'inventory').trim(), 'utf8'));
    // node1's configuration with its own name and URLs, per node: each its own cluster.
    const base = lab(id, 'ssh', 'node1', 'cat', '/etc/default/etcd');
    for (const n of inv.nodes as Array<{ name: string; etcd: { peerURL: string; clientURL: string } }>) {
      const cluster = `w${id}${n.name}`;
      if (n.name !== 'node1') {
        const addr = new URL(n.etcd.peerURL).hostname;
        const node1 = new URL(inv.nodes[0].etcd.peerURL).hostname;
        ownCluster(id, n.name, base.replaceAll(node1, addr).replace(/ETCD_INITIAL_CLUSTER_TOKEN=.*/, `ETCD_INITIAL_CLUSTER_TOKEN=${cluster}`).replace(/^ETCD_INITIAL_CLUSTER=.*$/m, `ETCD_INITIAL_CLUSTER=${n.name}=https://${addr}:2380`));
      }
      writeFileSync(join(dir, `${cluster}.yaml`), YAML.stringify({ ...inv, cluster, nodes: [n] }));
      clusters.push(cluster);
    }
    console.log(`lab ${id}: ${NODES} nodes, ${NODES} one-member clusters in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const settings = temporalSettings();
  const taskQueue = `bench-watch-${process.pid}`;
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  for (const c of clusters) await client.workflow.getHandle(watchId(c)).terminate('a new benchmark').catch(() => undefined);
  process.env.ETCD_RUNBOOKS_WATCH = 'on';
  const worker = new WorkerProcess(taskQueue, dir);
  await worker.start();
  try {
    console.log(`worker watching ${clusters.length} clusters; warm-up 90 s, then ${minutes} min measured`);
    await sleep(90_000);
    const from = Date.now(); const u0 = usage(worker.pid!);
    const rss: number[] = [];
    while (Date.now() - from < minutes * 60_000) { await sleep(10_000); rss.push(usage(worker.pid!).rss); }
    const to = Date.now(); const u1 = usage(worker.pid!);
    const per = await Promise.all(clusters.map((c) => watchFigures(client, c, from, to)));
    const probes = per.reduce((s, x) => s + x.durations.length, 0);
    const all = per.flatMap((x) => x.durations);
    const wallS = (to - from) / 1000;
    const cpuPct = ((u1.cpuS - u0.cpuS) / wallS) * 100;
    const perProbe = { events: per.reduce((s, x) => s + x.events, 0) / probes, bytes: per.reduce((s, x) => s + x.bytes, 0) / probes, actions: per.reduce((s, x) => s + x.actions, 0) / probes };
    const probesPerHour = 3600 / INTERVAL_S;
    const out = {
      clusters: clusters.length, windowSeconds: wallS, probes, probesPerClusterPerMinute: probes / clusters.length / (wallS / 60),
      probeMs: { median: median(all), p95: p95(all), max: Math.max(...all) },
      worker: { cpuPercentOfOneCore: cpuPct, cpuMsPerProbe: ((u1.cpuS - u0.cpuS) * 1000) / probes, rssMiB: { median: median(rss) / 2 ** 20, max: Math.max(...rss) / 2 ** 20 } },
      perProbe, perClusterPerHour: { actions: perProbe.actions * probesPerHour }, perClusterPerDay: { events: perProbe.events * probesPerHour * 24, historyMiB: (perProbe.bytes * probesPerHour * 24) / 2 ** 20 },
    };
    const t = new Table({ head: ['figure', 'value'] });
    t.push(['clusters watched by one worker', out.clusters], ['window', `${wallS.toFixed(0)} s, ${probes} probes (${out.probesPerClusterPerMinute.toFixed(2)} per cluster per minute)`],
      ['probe duration median / p95 / max', `${out.probeMs.median} / ${out.probeMs.p95} / ${out.probeMs.max} ms`],
      ['worker CPU', `${cpuPct.toFixed(1)} % of one core; ${out.worker.cpuMsPerProbe.toFixed(1)} ms per probe`],
      ['worker RSS median / max', `${out.worker.rssMiB.median.toFixed(0)} / ${out.worker.rssMiB.max.toFixed(0)} MiB`],
      ['history per probe', `${perProbe.events.toFixed(1)} events, ${(perProbe.bytes / 1024).toFixed(2)} KiB, ${perProbe.actions.toFixed(2)} actions`],
      ['Temporal actions per cluster per hour', out.perClusterPerHour.actions.toFixed(0)],
      ['history per cluster per day', `${out.perClusterPerDay.events.toFixed(0)} events, ${out.perClusterPerDay.historyMiB.toFixed(1)} MiB`]);
    console.log(t.toString());
    mkdirSync(join(REPO, '.state', 'bench'), { recursive: true });
    writeFileSync(join(REPO, '.state', 'bench', `watch-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(out, null, 2));
  } finally {
    await worker.stop();
    for (const c of clusters) await client.workflow.getHandle(watchId(c)).terminate('benchmark done').catch(() => undefined);
    await connection.close();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) for (const id of LABS) lab(id, 'down');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
