import type { Etcd3 } from 'etcd3';
import type { WorkflowHandle } from '@temporalio/client';
import { inventoryDigest } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { expandCluster, progressQuery } from '../../workflows';
import { errorMessage } from '../../workflows/steps';
import { localKeys, memberClient, memberNames, writeKeys } from '../support/etcd';
import { freshLabWith, INVENTORY, lab, onNodeStatus } from '../support/lab';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(10 * 60_000);

/** Waits until the run's progress shows `step` with `status`. */
const stepIs = (h: WorkflowHandle, step: string, status: string) =>
  eventually(`${step} ${status}`, async () => ((await h.query(progressQuery)).steps.find((s) => s.id === step)?.status === status ? true : undefined), 120_000);

// Faults on the nodes while a runbook runs: it retries what is safe to retry and ends completed,
// or stopped at a safe point with a clear message; never with a cluster worse than at the start.
describe('node faults during a runbook (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let clients: Etcd3[] = [];
  const etcd = (n: string) => { const c = memberClient(inv, n); clients.push(c); return c; };
  const expand = () => startRun(env, expandCluster, { cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY), add: ['node2', 'node3'] });

  /** Completed with 3 members and every key, or compensated back to the 1 member it started with. */
  async function expectCompletedOrAsStarted(h: WorkflowHandle, prefix: string) {
    const outcome = await h.result().then(() => 'completed', (e) => errorMessage(e));
    const names = await memberNames(etcd('node1'));
    console.log(`outcome: ${outcome}; members ${names.join(',')}`);
    if (outcome === 'completed') expect(names).toEqual(['node1', 'node2', 'node3']);
    else expect((await h.query(progressQuery)).outcome).toBe('compensated');
    if (outcome !== 'completed') expect(names).toEqual(['node1']);
    for (const n of outcome === 'completed' ? ['node1', 'node2', 'node3'] : ['node1']) {
      expect(Object.keys(await eventually(`${n} reads`, () => localKeys(etcd(n), prefix)))).toHaveLength(100);
    }
    return outcome;
  }

  beforeAll(async () => {
    inv = freshLabWith(3, 1);
    env = await startWorkerAndClient([INVENTORY]);
  });
  beforeEach(() => { inv = freshLabWith(3, 1); });
  afterEach(() => { clients.forEach((c) => c.close()); clients = []; });
  afterAll(async () => {
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('SSH connections to the control node are cut repeatedly mid-run', async () => {
    await writeKeys(etcd('node1'), 'ssh/', 100);
    const h = await expand();
    await stepIs(h, 'start:node2', 'running');
    for (let i = 0; i < 3; i++) {
      onNodeStatus('node1', 'pkill -KILL -f "sshd: root@notty" || true'); // kills this command's session too
      await new Promise((r) => setTimeout(r, 1500));
    }
    expect(await expectCompletedOrAsStarted(h, 'ssh/')).toBe('completed');
  });

  test('the joining node freezes for 15 s right after its learner was added', async () => {
    await writeKeys(etcd('node1'), 'frz/', 100);
    const h = await expand();
    await stepIs(h, 'add-learner:node2', 'done');
    lab('freeze', 'node2');
    await new Promise((r) => setTimeout(r, 15_000));
    lab('thaw', 'node2');
    await expectCompletedOrAsStarted(h, 'frz/');
  });

  test('the joining node reboots right after its etcd was started', async () => {
    await writeKeys(etcd('node1'), 'rb/', 100);
    const h = await expand();
    await stepIs(h, 'start:node3', 'done');
    onNodeStatus('node3', 'systemctl reboot');
    expect(await expectCompletedOrAsStarted(h, 'rb/')).toBe('completed');
  });
});
