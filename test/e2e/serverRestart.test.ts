import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Etcd3 } from 'etcd3';
import { temporalSettings } from '../../config/temporal';
import { auditSettings } from '../../config/audit';
import { recordPaths, verifyRecordFile } from '../../audit/store';
import { inventoryDigest } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { expandCluster, progressQuery, removeMember } from '../../workflows';
import { localKeys, memberClient, memberNames, writeKeys } from '../support/etcd';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { eventually, startSigned } from '../support/temporal';
import { approveAs } from '../support/decisions';
import { WorkerProcess } from '../support/workerProcess';

jest.setTimeout(10 * 60_000);

const SERVER = join(__dirname, '..', '..', 'scripts', 'temporal-server.sh');
const CLI = join(__dirname, '..', '..', 'bin', 'etcd-runbooks');

/** Waits until the run's signed audit record exists and verifies with the worker's key; returns its events. */
async function auditRecord(workflowId: string, runId: string): Promise<Array<Record<string, unknown>>> {
  const audit = auditSettings();
  const { jsonl } = recordPaths(audit.dir, 'lab', workflowId, runId);
  await eventually(`audit record of ${workflowId}`, async () => (existsSync(`${jsonl}.sig`) ? true : undefined), 120_000);
  expect(verifyRecordFile(jsonl, readFileSync(`${audit.keyFile}.pub`, 'utf8'))).toMatchObject({ ok: true });
  return readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}
const server = (cmd: 'start' | 'kill') => execFileSync(SERVER, [cmd], { stdio: 'ignore' });

/** Waits until the run's history holds a completed activity of `type` (asked again after outages). */
async function untilCompleted(h: WorkflowHandle, type: string, nth = 1): Promise<void> {
  await eventually(`${type} #${nth} completed`, async () => {
    const events = (await h.fetchHistory()).events ?? [];
    const ids = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type).map((e) => String(e.eventId)));
    return events.filter((e) => ids.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId))).length >= nth ? true : undefined;
  }, 300_000);
}

// The Temporal dev server (SQLite file kept) and the worker are killed mid-run, as a crash of the
// head node would; once they are back, the run continues from where it was and completes.
describe('the Temporal server or the whole head node dies mid-run (end to end)', () => {
  let inv: Inventory;
  let connection: Connection;
  let client: Client;
  let worker: WorkerProcess;
  const clients: Etcd3[] = [];
  const etcd = (n: string) => { const c = memberClient(inv, n); clients.push(c); return c; };
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY) });
  const start = (wf: (...a: never[]) => Promise<unknown>, input: Record<string, unknown>) =>
    startSigned(client, `restart-${process.pid}`, wf as never, `restart-${wf.name}-${Date.now()}`, input);

  beforeAll(async () => {
    connection = await Connection.connect({ address: temporalSettings().address });
    client = new Client({ connection, namespace: temporalSettings().namespace });
  });
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await worker?.kill();
    server('start');
  });
  afterAll(async () => {
    await connection?.close();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('server killed after a member was added; restarted; the expand completes', async () => {
    inv = freshLabWith(3, 1);
    worker = new WorkerProcess(`restart-${process.pid}`, INVENTORY);
    await worker.start();
    await writeKeys(etcd('node1'), 's/', 200);
    const h = await start(expandCluster, { ...base(), add: ['node2', 'node3'] });
    await untilCompleted(h, 'addLearner');
    server('kill');
    await new Promise((r) => setTimeout(r, 3000));
    server('start');
    await h.result();
    expect(await memberNames(etcd('node1'))).toEqual(['node1', 'node2', 'node3']);
    for (const n of ['node1', 'node2', 'node3']) expect(Object.keys(await eventually(`${n} reads`, () => localKeys(etcd(n), 's/')))).toHaveLength(200);
    expect(worker.starts).toBe(1); // the same worker carried on once the server was back
  });

  test('head node reboot: worker and server killed together mid-run; both restarted; the expand completes', async () => {
    inv = freshLabWith(3, 1);
    worker = new WorkerProcess(`restart-${process.pid}`, INVENTORY);
    await worker.start();
    await writeKeys(etcd('node1'), 'h/', 200);
    const h = await start(expandCluster, { ...base(), add: ['node2', 'node3'] });
    await untilCompleted(h, 'promoteLearner'); // node2 done, node3 next
    await worker.kill();
    server('kill');
    server('start');
    await worker.start();
    await h.result();
    expect(await memberNames(etcd('node1'))).toEqual(['node1', 'node2', 'node3']);
    for (const n of ['node1', 'node2', 'node3']) expect(Object.keys(await eventually(`${n} reads`, () => localKeys(etcd(n), 'h/')))).toHaveLength(200);
    // The run interrupted by the reboot gets its audit record once it has finished, from the worker that came back.
    const record = await auditRecord(h.workflowId, h.firstExecutionRunId);
    expect(record.at(-1)).toMatchObject({ type: 'outcome', status: 'completed' });
    expect(record.some((e) => e.type === 'command' && e.step === 'addLearner')).toBe(true);
  });

  test('a backup schedule across a head node reboot: the backup due while it was down is taken when it is back', async () => {
    inv = freshLabWith(3, 3);
    const queue = `restart-${process.pid}`;
    worker = new WorkerProcess(queue, INVENTORY);
    await worker.start();
    const cli = (...args: string[]) => execFileSync(CLI, args, { env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: queue }, encoding: 'utf8' });
    cli('schedule', 'backup', '-i', INVENTORY, '--every', '15s', '--keep', '50');
    const scheduled = async () => {
      const out: Array<{ runId: string; workflowId: string; nominal: number; status: string }> = [];
      for await (const w of client.workflow.list({ query: `WorkflowType = "backupCluster" AND TaskQueue = "${queue}"` })) {
        const nominal = (w.searchAttributes as Record<string, Date[] | undefined>).TemporalScheduledStartTime?.[0];
        if (nominal) out.push({ runId: w.runId, workflowId: w.workflowId, nominal: new Date(nominal).getTime(), status: w.status.name });
      }
      return out.sort((a, b) => a.nominal - b.nominal);
    };
    try {
      await eventually('a first scheduled backup', async () => ((await scheduled()).some((r) => r.status === 'COMPLETED') ? true : undefined), 120_000);
      await worker.kill();
      server('kill');
      const down = Date.now();
      await new Promise((r) => setTimeout(r, 35_000)); // two due times pass while the head node is down
      server('start');
      const up = Date.now();
      await worker.start();
      const runs = await eventually('a backup for a time the head node was down, completed', async () => {
        const all = await scheduled();
        return all.some((r) => r.nominal >= down && r.nominal < up && r.status === 'COMPLETED') && all.some((r) => r.nominal >= up && r.status === 'COMPLETED') ? all : undefined;
      }, 180_000);
      const missed = runs.find((r) => r.nominal >= down && r.nominal < up)!;
      const record = await auditRecord(missed.workflowId, missed.runId);
      expect(record.at(-1)).toMatchObject({ type: 'outcome', status: 'completed' });
      expect(record.some((e) => e.type === 'evidence' && e.step === 'takeBackup')).toBe(true);
    } finally {
      cli('schedule', 'delete', 'etcd-runbooks-backup-lab');
    }
  });

  test('a run waiting for approval survives a head node reboot; approved afterwards, it completes', async () => {
    inv = freshLabWith(3, 3);
    worker = new WorkerProcess(`restart-${process.pid}`, INVENTORY);
    await worker.start();
    const h = await start(removeMember, { ...base(), node: 'node3' });
    await eventually('approval request', async () => ((await h.query(progressQuery)).pendingApproval?.step === 'remove:node3' ? true : undefined));
    await worker.kill();
    server('kill');
    server('start');
    await worker.start();
    await eventually('approval accepted after the restart', async () => approveAs(h, 'remove:node3', { principal: 'carol' }));
    await eventually('second approval request', async () => ((await h.query(progressQuery)).pendingApproval?.step === 'move-aside:node3' ? true : undefined));
    await approveAs(h, 'move-aside:node3', { principal: 'carol' });
    const r = (await h.result()) as { approvals: Array<{ step: string; by: string }> };
    expect(r.approvals.map((a) => `${a.step} by ${a.by}`)).toEqual(['remove:node3 by carol', 'move-aside:node3 by carol']);
    expect(await memberNames(etcd('node1'))).toEqual(['node1', 'node2']);
  });
});
