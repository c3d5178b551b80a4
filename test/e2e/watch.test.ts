import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { InventoryRegistry } from '../../activities/registry';
import { watchId } from '../../service/ids';
import type { ProposalsView } from '../../service/runs';
import { keepWatches } from '../../worker/watches';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { eventually, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(20 * 60_000);

// Issue "watch every cluster": the worker keeps a watch per cluster (probe every 15 s, the
// default); what it proposes and reports is read as a person reads it, through the CLI. Each
// fault is put in place on the lab and judged from what `proposals` says, with the time from
// fault to proposal (the detection latency) printed.
describe('watch (end to end)', () => {
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let stopWatches: () => Promise<void> = async () => undefined;
  const latencies: { fault: string; seconds: number }[] = [];
  const proposals = () => new Promise<ProposalsView>((resolve, reject) => {
    execFile(join(__dirname, '..', '..', 'bin', 'etcd-runbooks'), ['proposals', '-i', INVENTORY, '--json'], { encoding: 'utf8', env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: env.taskQueue } },
      (e, stdout, stderr) => { try { resolve(JSON.parse(stdout) as ProposalsView); } catch { reject(new Error(`proposals: ${e?.message ?? ''} ${stderr}`)); } });
  });
  const open = (v: ProposalsView) => [...v.proposals, ...v.reports].filter((x) => x.status === 'open');
  /** Waits until `proposals` shows an open entry with `key`; records the time from `since` (the fault) to it. */
  const waitOpen = async (fault: string, key: string, since: number, timeoutMs = 180_000) => {
    const found = await eventually(`${key} open`, async () => open(await proposals()).find((x) => x.key === key), timeoutMs);
    latencies.push({ fault, seconds: (Date.now() - since) / 1000 });
    return found;
  };

  beforeAll(async () => {
    freshLabWith(4, 3);
    env = await startWorkerAndClient([INVENTORY]);
    // A watch left by an earlier run of this file (on a task queue no worker polls any more) would be "the existing one".
    await env.client.workflow.getHandle(watchId('lab')).terminate('a new test run').catch(() => undefined);
    stopWatches = keepWatches(env.client, env.taskQueue, new InventoryRegistry([INVENTORY]), () => undefined);
  });
  afterAll(async () => {
    await stopWatches();
    await env?.client.workflow.getHandle(watchId('lab')).terminate('test done').catch(() => undefined);
    await env?.stop();
    console.log(`detection latency, fault to proposal or report (thresholds 60 s, probe every 15 s): ${latencies.map((l) => `${l.fault} ${l.seconds.toFixed(1)} s`).join('; ')}`);
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('a healthy cluster: the watch probes and proposes nothing', async () => {
    const v = await eventually('three probes', async () => { const x = await proposals(); return x.watching && (x.probes ?? 0) >= 3 ? x : undefined; }, 120_000);
    expect(v).toMatchObject({ watching: true, cluster: 'lab', intervalSeconds: 15, failedProbes: 0, proposals: [], reports: [] });
  });

  test('SSH-only loss of node2: reported, nothing proposed', async () => {
    const t0 = Date.now();
    lab('block', 'node2', 'ssh');
    try {
      const r = await waitOpen('ssh-only', 'ssh-only:node2', t0);
      expect(r.evidence).toBe('node2: SSH fails, its etcd serves: nothing to do to the cluster; the node needs a look');
      expect((await proposals()).proposals.filter((p) => p.status === 'open')).toEqual([]);
    } finally {
      lab('unblock', 'node2');
    }
    await eventually('the report closes', async () => (open(await proposals()).length === 0 ? true : undefined), 60_000);
  });

  test('a crashed member: replace on the spare node, with the evidence; it closes as resolved when the node is back', async () => {
    const t0 = Date.now();
    lab('crash', 'node3');
    try {
      const p = await waitOpen('crash', 'member-silent:node3', t0);
      expect(p).toMatchObject({ runbook: 'replace', fields: { failed: 'node3', replacement: 'node4' } });
      expect(p).toHaveProperty('evidence', 'node3 silent (etcd does not answer; SSH fails too), 2 of 3 voters serving');
      expect(open(await proposals()).map((x) => x.key)).toEqual(['member-silent:node3']);
    } finally {
      lab('start', 'node3');
    }
    const v = await eventually('resolved', async () => { const x = await proposals(); return x.proposals.find((q) => q.key === 'member-silent:node3' && q.status === 'resolved') ? x : undefined; }, 120_000);
    expect(open(v)).toEqual([]);
  });

  test('quorum lost: recover-quorum, naming the most advanced survivor', async () => {
    const t0 = Date.now();
    lab('crash', 'node2');
    lab('crash', 'node3');
    try {
      const p = await waitOpen('quorum loss', 'quorum-lost', t0);
      expect(p).toMatchObject({ runbook: 'recover-quorum', fields: { members: ['node1', 'node2', 'node3'] } });
      expect(p.evidence).toMatch(/^quorum lost: 1 of 3 voters answer \(node1\), 2 needed; most advanced survivor node1 \(raft index \d+\)$/);
      // A member silent while there is no quorum is part of the quorum loss, not a replace of its own.
      expect(open(await proposals()).map((x) => x.key)).toEqual(['quorum-lost']);
    } finally {
      lab('start', 'node2');
      lab('start', 'node3');
    }
    await eventually('resolved', async () => (open(await proposals()).length === 0 ? true : undefined), 120_000);
  });
});
