import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { step, withStubWorker } from '../support/stubWorker';
import { startSigned } from '../support/temporal';
import { describeFailure } from '../../client/failure';
import { expandCluster, replaceMember } from '../../workflows';
import type { RunbookProgress } from '../../domain/progress';
import type { DryRunResult } from '../../workflows/phases';

jest.setTimeout(2 * 60_000);

const spec = (n: number) => ({ node: `node${n}`, name: `node${n}`, peerURL: `https://10.0.0.${n}:2380`, clientURL: `https://10.0.0.${n}:2379`, dataDir: '/var/lib/etcd' });
const member = (n: number) => ({ id: `${n}a`, name: `node${n}`, peerURLs: [spec(n).peerURL], clientURLs: [spec(n).clientURL], isLearner: false, healthy: n !== 4, isLeader: n === 1, status: { dbSize: 1 << 20 } });
const ready = (n: number, extra = {}) => ({ spec: spec(n), reachable: true, dataDirEmpty: true, tlsFilesPresent: true, etcdActive: false, dataDirFreeBytes: 1 << 30, ...extra });
const calls: string[] = [];
const logged = <T>(name: string, result: T) => async (input: { node?: string }) => { calls.push(`${name}${input?.node ? `:${input.node}` : ''}`); return { result, commands: [], commandCount: 0 }; };

/** The activities of a cluster (node4's member unhealthy) whose node3 etcd does not start. */
const lab = (members: number[], nodes: Record<string, ReturnType<typeof ready>>) => ({
  inspectCluster: step({ clusterId: 'c1', members: members.map(member) }),
  probeLiveness: step([]),
  inspectNodes: async (input: { nodes: string[] }) => ({ result: input.nodes.map((n) => nodes[n]), commands: [], commandCount: 0 }),
  inspectKube: step({ enabled: false, desired: [], nodes: [] }),
  takeSnapshot: step({ node: 'node1', path: '/var/backups/etcd/s.db', revision: 9, totalKeys: 3, sizeBytes: 1 << 20, sha256: 'ab' }),
  addLearner: async (input: { node: string }) => { calls.push(`addLearner:${input.node}`); return { result: { memberId: 'ff', initialCluster: 'x', alreadyPresent: false }, commands: [], commandCount: 0 }; },
  writeMemberConfig: logged('writeMemberConfig', { path: '/etc/default/etcd', changed: true }),
  startMember: async (input: { node: string }) => {
    calls.push(`startMember:${input.node}`);
    if (input.node === 'node3') throw ApplicationFailure.nonRetryable('node3: etcd failed to start', 'EtcdStartFailed');
    return { result: { memberId: 'ff' }, commands: [], commandCount: 0 };
  },
  learnerProgress: step({ caughtUp: true, appliedIndex: 10, leaderIndex: 10 }),
  promoteLearner: logged('promoteLearner', { memberId: 'ff', alreadyVoter: false }),
  waitClusterHealthy: logged('waitClusterHealthy', { voters: 2, leader: 'node1' }),
  moveLeaderOff: logged('moveLeaderOff', { movedTo: undefined }),
  removeMember: logged('removeMember', { removed: 'ff' }),
  stopMember: logged('stopMember', { service: 'stopped' }),
  moveDataDirAside: logged('moveDataDirAside', { movedTo: '/var/lib/etcd.aside-x' }),
  verifyCluster: step({ state: { clusterId: 'c1', members: members.map(member) }, hash: 1, revision: 9 }),
});

// The phase runner on the real Temporal server: the plan comes from the same table that runs, and
// a failure undoes what the run added, cluster side first, newest first.
test('expand: the plan is the phase table; a failed start undoes both added members, cluster side first', async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  calls.length = 0;
  await withStubWorker(lab([1], { node2: ready(2), node3: ready(3) }), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, expandCluster, `wf-phases-expand-${Date.now()}`, { cluster: 'lab', add: ['node2', 'node3'] });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('expandCluster', err)[0]).toBe('expandCluster failed and was undone: failed: node3: etcd failed to start; the members this run added (node2, node3) were taken out again');
    const p: RunbookProgress = await h.query('progress');
    const ids = p.steps.map((s) => s.id);
    expect(ids.slice(0, 3)).toEqual(['preflight', 'snapshot', 'add-learner:node2']);
    expect(ids).toContain('verify');
    expect(new Set(ids).size).toBe(ids.length);
    expect(p.steps.filter((s) => s.id !== 'preflight' && !s.id.startsWith('undo-')).every((s) => s.source)).toBe(true);
    expect(p.steps.find((s) => s.id === 'promote:node2')?.status).toBe('compensated');
    expect(p.steps.find((s) => s.id === 'start:node3')?.status).toBe('failed');
    expect(p.steps.find((s) => s.id === 'promote:node3')?.status).toBe('pending');
    expect(p.steps.find((s) => s.id === 'verify')?.status).toBe('pending');
    const undo = calls.filter((c) => /^(removeMember|moveDataDirAside)/.test(c));
    expect(undo).toEqual(['removeMember:node3', 'removeMember:node2', 'moveDataDirAside:node3', 'moveDataDirAside:node2']);
  });
});

test('replace: past the removal, a failed add of the replacement is undone and the run stops one member short', async () => {
  calls.length = 0;
  await withStubWorker(lab([1, 2, 4], { node4: ready(4), node3: ready(3) }), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, replaceMember, `wf-phases-replace-${Date.now()}`, { cluster: 'lab', failed: 'node4', replacement: 'node3', approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('replaceMember', err)[0]).toMatch(/^replaceMember stopped at a safe point: failed: node3: etcd failed to start; node4 was removed; adding node3 was undone; the cluster has one member fewer but is healthy/);
    expect(calls.filter((c) => c.startsWith('removeMember'))).toEqual(['removeMember:node4', 'removeMember:node3']);
    const p: RunbookProgress = await h.query('progress');
    expect(p.steps.find((s) => s.id === 'remove:node4')?.status).toBe('done');
    expect(p.steps.find((s) => s.id === 'move-aside:node4')?.status).toBe('done');
  });
});

// A dry run: pre-flight reads, then the plan with the members after each step and what a cancel
// there would do; no activity that changes anything is called.
test('expand --plan: the projection after each step, what a cancel does there, and no change', async () => {
  calls.length = 0;
  const changes: string[] = [];
  const stubs = lab([1], { node2: ready(2), node3: ready(3) });
  const watched = Object.fromEntries(Object.entries(stubs).map(([k, f]) => [k, async (input: never) => {
    if (!/^(inspect|probe|verify)/.test(k)) changes.push(k);
    return (f as (i: never) => Promise<unknown>)(input);
  }]));
  await withStubWorker(watched, async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, expandCluster, `wf-phases-plan-${Date.now()}`, { cluster: 'lab', add: ['node2', 'node3'], dryRun: true });
    // startSigned types a run's result; a dry run's is the plan.
    const r = (await h.result()) as unknown as DryRunResult;
    expect(r.dryRun).toBe(true);
    expect(changes).toEqual([]);
    const at = (id: string) => r.plan.find((s) => s.id === id)!.projection!;
    expect(at('snapshot')).toEqual({ voters: 1, serving: 1, quorum: 1, tolerance: 0, onCancel: 'ends: nothing was changed' });
    expect(at('promote:node2')).toMatchObject({ voters: 2, serving: 2, quorum: 2, tolerance: 0 });
    expect(at('promote:node3')).toMatchObject({ voters: 3, serving: 3, quorum: 2, tolerance: 1 });
    expect(at('start:node3').onCancel).toBe('undoes: node3: move leadership off, remove its member; node2: move leadership off, remove its member; node3: stop and disable etcd, move the data dir aside; node2: stop and disable etcd, move the data dir aside');
    expect(at('verify').onCancel).toMatch(/^stops at a safe point: the change is made/);
    const p: RunbookProgress = await h.query('progress');
    expect(p.outcome).toBe('completed');
    expect(p.message).toMatch(/^dry run: .*nothing was changed/);
    expect(p.steps.filter((s) => s.id !== 'preflight').every((s) => s.status === 'pending')).toBe(true);
  });
});

test('replace --plan: the removal is the point of no return; after it a cancel stops one member short', async () => {
  await withStubWorker(lab([1, 2, 4], { node4: ready(4), node3: ready(3) }), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, replaceMember, `wf-phases-replan-${Date.now()}`, { cluster: 'lab', failed: 'node4', replacement: 'node3', dryRun: true });
    const r = (await h.result()) as unknown as DryRunResult;
    expect(r.dryRun).toBe(true);
    const at = (id: string) => r.plan.find((s) => s.id === id)!.projection!;
    expect(at('remove:node4')).toEqual({ voters: 2, serving: 2, quorum: 2, tolerance: 0, onCancel: 'ends: nothing was changed' });
    expect(at('stop:node4').onCancel).toBe("stops at a safe point: node4's member was removed; its node was not cleaned up");
    expect(at('start:node3').onCancel).toMatch(/^stops at a safe point: node4 was removed; adding node3 was undone/);
    expect(at('promote:node3')).toMatchObject({ voters: 3, serving: 3, quorum: 2, tolerance: 1 });
  });
});
