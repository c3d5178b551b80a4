import { WorkflowFailedError } from '@temporalio/client';
import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { runbookWorkflowId } from '../../client/prepare';
import { expandCluster, progressQuery } from '../../workflows';
import type { ExpandResult } from '../../workflows/expandCluster';
import { freshLab, INVENTORY, lab, onNode, onNodeStatus } from '../support/lab';
import { localKeys, memberClient, memberNames, writeKeys } from '../support/etcd';
import { scheduledActivities, startWorkerAndClient } from '../support/temporal';
import { signedInput } from '../support/decisions';
import { errorMessage } from '../../workflows/steps';

jest.setTimeout(10 * 60_000);

// One scenario in order on one lab: refusals and a compensated failure first, then the real
// expansion, then a re-run. Real Temporal dev server, real nspawn nodes, real sshd, real etcd.
describe('expandCluster on the lab (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  const clients: Etcd3[] = [];
  const client = (node: string) => { const c = memberClient(inv, node); clients.push(c); return c; };
  const workflowId = () => runbookWorkflowId(`lab-${env.taskQueue}`);
  const run = (add: string[], extra = {}) => env.client.workflow.start(expandCluster, {
    taskQueue: env.taskQueue, workflowId: workflowId(), workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'FAIL',
    args: [signedInput('expandCluster', workflowId(), { cluster: 'lab', add, inventoryDigest: inventoryDigest(INVENTORY), ...extra })] as never,
  });

  beforeAll(async () => {
    inv = freshLab(3);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('pre-flight refuses an even final size and changes nothing', async () => {
    const h = await run(['node2']);
    const err = await h.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(errorMessage(err)).toMatch(/pre-flight refused: the cluster would end with 2 voting members/);
    expect(await memberNames(client('node1'))).toEqual(['node1']);
    // inspectKube: the control-plane read; without a kubernetes section in the inventory it answers at once.
    expect(await scheduledActivities(env.client, h.workflowId, h.firstExecutionRunId)).toEqual(['inspectCluster', 'probeLiveness', 'inspectNodes', 'inspectKube']);
  });

  test('a member that fails to start is compensated: every member this run added is removed, data dirs moved aside', async () => {
    onNode('node3', 'cp /etc/etcd/pki/peer.crt /root/peer.crt.good && echo broken > /etc/etcd/pki/peer.crt');
    try {
      const h = await run(['node2', 'node3']);
      const err = await h.result().catch((e) => e);
      expect(errorMessage(err)).toMatch(/node3: etcd failed to start/);
      const progress = await h.query(progressQuery);
      expect(progress.outcome).toBe('compensated');
      expect(progress.steps.filter((s) => s.id.startsWith('undo-')).map((s) => [s.id, s.status])).toEqual([
        ['undo-member:node3', 'compensated'], ['undo-member:node2', 'compensated'], ['undo-node:node3', 'compensated'], ['undo-node:node2', 'compensated'],
      ]);
    } finally {
      onNode('node3', 'mv /root/peer.crt.good /etc/etcd/pki/peer.crt');
    }
    expect(await memberNames(client('node1'))).toEqual(['node1']);
    for (const node of ['node2', 'node3']) {
      expect(onNodeStatus(node, 'systemctl is-active --quiet etcd')).not.toBe(0);
      expect(onNodeStatus(node, 'test -e /var/lib/etcd/default')).not.toBe(0);
    }
    // node2 had joined and held data: it was moved aside, not deleted
    expect(onNode('node2', 'ls -d /var/lib/etcd/default.aside-expand-*/member')).toMatch(/default\.aside-expand-[0-9a-f]{12}\/member/);
  });

  test('expands 1 to 3: three healthy voters, equal hashkv, every key on every member, one activity per step', async () => {
    await writeKeys(client('node1'), 'e2e/key-', 1000);
    const h = await run(['node2', 'node3']);
    const result = (await h.result()) as ExpandResult;
    expect(result).toMatchObject({ outcome: 'completed', added: ['node2', 'node3'], voters: 3 });
    // the plan judged each node by SSH and by etcd apart
    expect((await h.query(progressQuery)).liveness).toEqual([
      expect.stringMatching(/^node1: ssh ok; etcd serving \(seen by node\d\); etcd 3\.6\.\d+, raft index \d+/),
      'node2: ssh ok; etcd no answer on client or peer port',
      'node3: ssh ok; etcd no answer on client or peer port',
      expect.stringMatching(/^versions: cluster 3\.6\.0 \(reported by etcd\); node2 has etcd 3\.6\.\d+; node3 has etcd 3\.6\.\d+$/),
    ]);
    expect(result.snapshot?.path).toMatch(/^\/var\/backups\/etcd-runbooks\/lab-expand-[0-9a-f]{12}\.db$/);

    const members = (await client('node1').cluster.memberList({})).members!;
    expect(members.map((m) => m.name).sort()).toEqual(['node1', 'node2', 'node3']);
    expect(members.every((m) => !m.isLearner)).toBe(true);

    for (const node of ['node1', 'node2', 'node3']) {
      const c = client(node);
      const status = await c.maintenance.status();
      expect(status.leader).not.toBe('0');
      const keys = await localKeys(c, 'e2e/key-');
      expect(Object.keys(keys)).toHaveLength(1000);
      expect(keys['e2e/key-0999']).toBe('value-0999');
    }
    const hashes = JSON.parse(onNode('node1', `ETCDCTL_API=3 etcdctl --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/client.crt --key=/etc/etcd/pki/client.key --endpoints=${inv.nodes.map((n) => n.etcd.clientURL).join(',')} -w json endpoint hashkv`));
    expect(hashes).toHaveLength(3);
    expect(new Set(hashes.map((x: { HashKV: { hash: number } }) => x.HashKV.hash)).size).toBe(1);
    expect(onNodeStatus('node1', `test -s ${result.snapshot!.path}`)).toBe(0);

    const perNode = ['addLearner', 'writeMemberConfig', 'startMember', 'learnerProgress', 'promoteLearner', 'waitClusterHealthy'];
    expect(await scheduledActivities(env.client, h.workflowId, h.firstExecutionRunId))
      .toEqual(['inspectCluster', 'probeLiveness', 'inspectNodes', 'inspectKube', 'takeSnapshot', ...perNode, ...perNode, 'verifyCluster']);
  });

  test('running the expand again changes nothing', async () => {
    const before = (await client('node1').cluster.memberList({})).members!.map((m) => m.ID).sort();
    const h = await run(['node2', 'node3']);
    expect(await h.result()).toMatchObject({ outcome: 'nothing-to-do', added: [], alreadyVoters: ['node2', 'node3'], voters: 3 });
    const after = (await client('node1').cluster.memberList({})).members!.map((m) => m.ID).sort();
    expect(after).toEqual(before);
    // Pre-flight reads only: with nothing to add, the control plane is not read either.
    expect(await scheduledActivities(env.client, h.workflowId, h.firstExecutionRunId)).toEqual(['inspectCluster', 'probeLiveness', 'inspectNodes']);
  });
});
