import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Etcd3 } from 'etcd3';
import { temporalSettings } from '../../config/temporal';
import { inventoryDigest } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { backupCluster, expandCluster, migrateMember, progressQuery, recoverQuorum, replaceMember, restoreCluster } from '../../workflows';
import { runWithCrashes, type Crash, type CrashPoint } from '../support/crashes';
import { localKeys, memberClient, memberNames, writeKeys } from '../support/etcd';
import { freshLabWith, INVENTORY, lab, onNode, onNodeStatus } from '../support/lab';
import { eventually, startSigned } from '../support/temporal';
import { WorkerProcess } from '../support/workerProcess';

jest.setTimeout(20 * 60_000);

interface Scenario {
  name: string;
  point: CrashPoint;
  nodes: number;
  members: number;
  /** Faults and data before the run; returns what the run needs. */
  prepare?: (ctx: Ctx) => Promise<Record<string, unknown>>;
  start: (ctx: Ctx, prepared: Record<string, unknown>) => Promise<WorkflowHandle>;
  /** Runs beside the crash loop (e.g. bring lost nodes back when the run waits for them). */
  during?: (ctx: Ctx, h: WorkflowHandle) => Promise<void>;
  expectMembers: string[];
  /** Nodes whose data dir must have been moved aside (`.aside-*`) or copied (`.backup-*`), not deleted. */
  keptData: Array<[string, RegExp]>;
  keyPrefix: string;
}

interface Ctx { client: Client; taskQueue: string; inv: Inventory; etcd: (node: string) => Etcd3; base: () => Record<string, unknown> }

const scenarios: Scenario[] = [
  ...(['running', 'scheduled', 'completed'] as const).map((point): Scenario => ({
    name: 'expand 1 to 3', point, nodes: 3, members: 1, keyPrefix: 'k/',
    start: (c) => startRun(c, expandCluster, { ...c.base(), add: ['node2', 'node3'] }),
    expectMembers: ['node1', 'node2', 'node3'], keptData: [],
  })),
  {
    name: 'replace crashed node2 with node4', point: 'running', nodes: 4, members: 3, keyPrefix: 'k/',
    prepare: async () => { lab('crash', 'node2'); return {}; },
    start: (c) => startRun(c, replaceMember, { ...c.base(), failed: 'node2', replacement: 'node4' }),
    expectMembers: ['node1', 'node3', 'node4'], keptData: [],
  },
  {
    name: 'migrate node1 (leader) to node4', point: 'running', nodes: 4, members: 3, keyPrefix: 'k/',
    start: (c) => startRun(c, migrateMember, { ...c.base(), from: 'node1', to: 'node4' }),
    expectMembers: ['node2', 'node3', 'node4'], keptData: [['node1', /default\.aside-migrate-/]],
  },
  {
    name: 'restore after all nodes lost their disks', point: 'running', nodes: 3, members: 3, keyPrefix: 'k/',
    prepare: async (c) => {
      const backup = await (await startRun(c, backupCluster, { ...c.base(), keep: 2 })).result();
      for (const n of ['node1', 'node2', 'node3']) { lab('crash', n); lab('wipe', n); }
      for (const n of ['node1', 'node2', 'node3']) lab('start', n);
      return { snapshot: { node: backup.node, path: backup.path } };
    },
    start: (c, p) => startRun(c, restoreCluster, { ...c.base(), snapshot: p.snapshot as { node: string; path: string }, members: ['node1', 'node2', 'node3'] }),
    expectMembers: ['node1', 'node2', 'node3'], keptData: [['node1', /default\.aside-restore-/]],
  },
  {
    name: 'recover quorum after node2 and node3 crashed', point: 'running', nodes: 3, members: 3, keyPrefix: 'k/',
    prepare: async () => { lab('crash', 'node2'); lab('crash', 'node3'); return {}; },
    start: (c) => startRun(c, recoverQuorum, { ...c.base(), members: ['node1', 'node2', 'node3'], waitForNodesSeconds: 600 }),
    during: async (_c, h) => {
      await eventually('the run to wait for node2', async () => ((await h.query(progressQuery)).steps.find((s) => s.id === 'wait-reachable:node2')?.status === 'running' ? true : undefined), 600_000);
      lab('start', 'node2');
      lab('start', 'node3');
    },
    expectMembers: ['node1', 'node2', 'node3'], keptData: [['node1', /default\.backup-recover-/]],
  },
];

let seq = 0;
function startRun(c: Ctx, workflow: (...a: never[]) => Promise<unknown>, input: Record<string, unknown>): Promise<WorkflowHandle> {
  return startSigned(c.client, c.taskQueue, workflow as never, `crash-${workflow.name}-${Date.now()}-${seq++}`, input);
}

describe('crash matrix: the worker is SIGKILLed at each activity type, a new one resumes the run', () => {
  let connection: Connection;
  let client: Client;
  const report: string[] = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: temporalSettings().address });
    client = new Client({ connection, namespace: temporalSettings().namespace });
  });
  afterAll(async () => {
    console.log(`crash matrix:\n${report.join('\n')}`);
    await connection?.close();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test.each(scenarios.map((s) => [`${s.name}, crash while ${s.point}`, s] as const))('%s', async (_title, s) => {
    const inv = freshLabWith(s.nodes, s.members);
    const taskQueue = `crash-${process.pid}-${Date.now()}`;
    const worker = new WorkerProcess(taskQueue, INVENTORY);
    const clients: Record<string, Etcd3> = {};
    const etcd = (n: string) => (clients[n] ??= memberClient(inv, n));
    const ctx: Ctx = { client, taskQueue, inv, etcd, base: () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), approvedBy: 'e2e' }) };
    try {
      await worker.start();
      await writeKeys(etcd('node1'), s.keyPrefix, 200);
      const prepared = s.prepare ? await s.prepare(ctx) : {};
      const started = Date.now();
      const h = await s.start(ctx, prepared);
      const [crashes] = await Promise.all([runWithCrashes(h, worker, s.point), s.during ? s.during(ctx, h) : Promise.resolve()]);
      await h.result();
      const took = (Date.now() - started) / 1000;
      const types = [...new Set(((await h.fetchHistory()).events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType!.name!] : [])))];
      report.push(`${s.name} / ${s.point}: ${crashes.length} crashes over ${types.length} activity types, run ${took.toFixed(1)} s; resumed after ${crashes.map((c: Crash) => `${c.activity} ${((c.resumedAfterMs ?? 0) / 1000).toFixed(1)}s`).join(', ')}`);

      Object.values(clients).forEach((c) => c.close());
      for (const k of Object.keys(clients)) delete clients[k];
      const reader = s.expectMembers[0];
      expect(await memberNames(etcd(reader))).toEqual(s.expectMembers);
      for (const n of s.expectMembers) {
        expect(Object.keys(await eventually(`${n} serves reads`, () => localKeys(etcd(n), s.keyPrefix)))).toHaveLength(200);
        expect(onNodeStatus(n, 'test -e /etc/systemd/system/etcd.service.d/etcd-runbooks-force-new-cluster.conf')).not.toBe(0);
      }
      for (const [n, re] of s.keptData) expect(onNode(n, 'ls -a /var/lib/etcd')).toMatch(re);
      expect(crashes.length).toBeGreaterThanOrEqual(Math.min(types.length, 5));
    } finally {
      Object.values(clients).forEach((c) => c.close());
      await worker.kill();
    }
  });
});
