import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { step, withStubWorker } from '../support/stubWorker';
import { startSigned } from '../support/temporal';
import { describeFailure } from '../../client/failure';
import { defragCluster } from '../../workflows';
import type { RunbookProgress } from '../../domain/progress';
import type { DefragMemberView } from '../../domain/defrag';
import type { DryRunResult } from '../../workflows/phases';

jest.setTimeout(2 * 60_000);

const MiB = 2 ** 20;
const quota = 16 * MiB;
/** Three members filled to a 16 MiB quota, then keys deleted and compacted: most pages free, NOSPACE raised; node1 leads. */
const view = (n: number): DefragMemberView => ({ node: `node${n}`, memberId: `${n}a`, isLeader: n === 1, serving: true, dbSize: quota, dbSizeInUse: 2 * MiB, quotaBytes: quota, freeBytes: 1 << 30 });
const calls: string[] = [];
const answer = <T>(result: T) => ({ result, commands: [], commandCount: 0 });

const lab = (failOn?: string) => ({
  inspectDefrag: step({ members: [view(1), view(2), view(3)], alarms: { noSpace: ['1a'], corrupt: [] } }),
  defragMember: async (input: { node: string; noSpace: boolean; offline?: boolean }) => {
    calls.push(`defragMember:${input.node}:${input.noSpace}${input.offline ? ':offline' : ''}`);
    if (input.node === failOn) throw ApplicationFailure.nonRetryable(`${input.node}: member serving after defragmentation: not reached within 60 s (no status answer)`, 'WaitTimeoutError');
    return answer({ node: input.node, before: { dbSize: quota, dbSizeInUse: 2 * MiB }, after: { dbSize: 2 * MiB, dbSizeInUse: 2 * MiB }, seconds: 0.4, ...(input.offline ? { offline: 'etcdutl 3.6.16' } : {}) });
  },
  moveLeaderOff: async (input: { node: string }) => { calls.push(`moveLeaderOff:${input.node}`); return answer({ movedTo: '2a' }); },
  disarmNoSpace: async () => { calls.push('disarmNoSpace'); return answer({ disarmed: true }); },
  checkWrites: async () => { calls.push('checkWrites'); return answer({ key: 'etcd-runbooks/write-check/x' }); },
  verifyCluster: async () => { calls.push('verifyCluster'); return answer({ state: { clusterId: 'c1', members: [] }, hash: 1, revision: 9 }); },
});

beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));
beforeEach(() => { calls.length = 0; });

test('NOSPACE: followers, then leadership moved off the leader and the leader; then disarm, a write, verify', async () => {
  await withStubWorker(lab(), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, defragCluster, `wf-defrag-${Date.now()}`, { cluster: 'lab' });
    const r = await h.result();
    expect(r).toMatchObject({ disarmed: true });
    expect(calls).toEqual(['defragMember:node2:true', 'defragMember:node3:true', 'moveLeaderOff:node1', 'defragMember:node1:true', 'disarmNoSpace', 'checkWrites', 'verifyCluster']);
    const p: RunbookProgress = await h.query('progress');
    expect(p.steps.map((s) => s.id)).toEqual(['preflight', 'defrag:node2', 'defrag:node3', 'move-leader-off:node1', 'defrag:node1', 'disarm', 'check-writes', 'verify']);
    expect(p.steps.find((s) => s.id === 'defrag:node2')?.detail).toBe('16.0 MiB -> 2.0 MiB in 0.40 s');
    expect(p.message).toBe('3 of 3 members defragmented; NOSPACE disarmed, writes accepted');
  });
});

test('--offline: every member rewritten by etcdutl on its node (asked of the activity), said in the plan and the progress', async () => {
  await withStubWorker(lab(), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, defragCluster, `wf-defrag-offline-${Date.now()}`, { cluster: 'lab', offline: true });
    await h.result();
    expect(calls.filter((c) => c.startsWith('defragMember'))).toEqual(['defragMember:node2:true:offline', 'defragMember:node3:true:offline', 'defragMember:node1:true:offline']);
    const p: RunbookProgress = await h.query('progress');
    expect(p.steps.find((s) => s.id === 'defrag:node1')?.title).toMatch(/^defragment node1's member offline \(stop, etcdutl defrag, start\) \(the leader, last\)/);
    expect(p.steps.find((s) => s.id === 'defrag:node2')?.detail).toBe('16.0 MiB -> 2.0 MiB in 0.40 s offline (etcdutl 3.6.16)');
  });
});

test('a member that does not serve again stops the run there: the members before it done, the leader not touched, nothing disarmed', async () => {
  await withStubWorker(lab('node3'), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, defragCluster, `wf-defrag-fail-${Date.now()}`, { cluster: 'lab' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('defragCluster', err)[0]).toMatch(/^defragCluster stopped at a safe point: failed: node3: member serving after defragmentation: not reached within 60 s \(no status answer\); node2 defragmented; node3's defragmentation did not finish/);
    expect(calls).toEqual(['defragMember:node2:true', 'defragMember:node3:true']);
    const p: RunbookProgress = await h.query('progress');
    expect(p.outcome).toBe('stopped');
    expect(p.leftovers?.map((l) => l.node)).toEqual(['node3']);
  });
});

test('dry run: the plan with quorum unchanged after each step and what a cancel would do; nothing called but the pre-flight read', async () => {
  await withStubWorker(lab(), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, defragCluster, `wf-defrag-plan-${Date.now()}`, { cluster: 'lab', dryRun: true });
    const r = (await h.result()) as unknown as DryRunResult;
    expect(calls).toEqual([]);
    expect(r.plan.map((s) => s.id)).toEqual(['defrag:node2', 'defrag:node3', 'move-leader-off:node1', 'defrag:node1', 'disarm', 'check-writes', 'verify']);
    expect(r.plan.every((s) => s.projection?.voters === 3 && s.projection.quorum === 2 && s.projection.tolerance === 1)).toBe(true);
    expect(r.plan[0].projection?.onCancel).toMatch(/^stops at a safe point: no member defragmented; node2's defragmentation did not finish/);
  });
});
