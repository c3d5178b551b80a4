import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { step, withStubWorker } from '../support/stubWorker';
import { startSigned } from '../support/temporal';
import { describeFailure } from '../../client/failure';
import { upgradeCluster } from '../../workflows';
import type { RunbookProgress } from '../../domain/progress';
import type { DryRunResult } from '../../workflows/phases';

jest.setTimeout(2 * 60_000);

const calls: string[] = [];
const answer = <T>(result: T) => ({ result, commands: [], commandCount: 0 });
/** A 3-member 3.5.35 cluster, node2 leads; `failOn`'s new release does not start. */
const lab = (failOn?: string, extra: Record<string, unknown> = {}) => ({
  inspectUpgrade: step({ members: [1, 2, 3].map((n) => ({ node: `node${n}`, version: '3.5.35', isLeader: n === 2 })), releaseProblems: [], unhealthy: [] }),
  takeSnapshot: step({ node: 'node2', path: '/var/backups/etcd/s.db', revision: 9, totalKeys: 3, sizeBytes: 1 << 20, sha256: 'ab' }),
  upgradeMember: async (input: { node: string; version: string }) => {
    calls.push(`upgrade:${input.node}`);
    if (input.node === failOn) throw ApplicationFailure.nonRetryable(`${input.node}: etcd failed to start: broken release`, 'PreconditionError');
    return answer({ node: input.node, from: '3.5.35', to: input.version, seconds: 3.2 });
  },
  rollbackMember: async (input: { node: string }) => { calls.push(`rollback:${input.node}`); return answer({ node: input.node, restarted: true }); },
  moveLeaderOff: async (input: { node: string }) => { calls.push(`moveLeaderOff:${input.node}`); return answer({ movedTo: '1a' }); },
  waitClusterVersion: async () => { calls.push('waitClusterVersion'); return answer({ clusterVersion: '3.6.0' }); },
  recordEtcdImageTag: async (input: { node: string }) => { calls.push(`recordEtcdImageTag:${input.node}`); return answer({ tag: '3.6.16-0', before: '3.5.35-0', changed: true }); },
  verifyCluster: async () => { calls.push('verifyCluster'); return answer({ state: { clusterId: 'c1', members: [] }, hash: 1, revision: 9 }); },
  ...extra,
});

beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));
beforeEach(() => { calls.length = 0; });

test('3.5.35 -> 3.6.16: snapshot, followers, leadership moved, the leader; then the cluster version and hashkv', async () => {
  await withStubWorker(lab(), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, upgradeCluster, `wf-upgrade-${Date.now()}`, { cluster: 'lab', version: '3.6.16', approvedBy: 'test' });
    const r = await h.result();
    expect(r).toMatchObject({ clusterVersion: '3.6.0', snapshot: 'node2:/var/backups/etcd/s.db' });
    expect(calls).toEqual(['upgrade:node1', 'upgrade:node3', 'moveLeaderOff:node2', 'upgrade:node2', 'waitClusterVersion', 'verifyCluster']);
    const p: RunbookProgress = await h.query('progress');
    expect(p.approvals.map((a) => a.step)).toEqual(['upgrade']);
  });
});

test('stacked etcd backing Kubernetes: the kubeadm-config image tag is set after the cluster version, before hashkv', async () => {
  const stacked = { inspectUpgrade: step({ members: [1, 2, 3].map((n) => ({ node: `node${n}`, version: '3.5.35', isLeader: n === 2 })), releaseProblems: [], unhealthy: [], kubeadmImageTag: true }) };
  await withStubWorker(lab(undefined, stacked), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, upgradeCluster, `wf-upgrade-kubeadm-${Date.now()}`, { cluster: 'lab', version: '3.6.16', approvedBy: 'test' });
    await h.result();
    expect(calls).toEqual(['upgrade:node1', 'upgrade:node3', 'moveLeaderOff:node2', 'upgrade:node2', 'waitClusterVersion', 'recordEtcdImageTag:node1', 'verifyCluster']);
    const p: RunbookProgress = await h.query('progress');
    expect(p.steps.find((x) => x.id === 'kubeadm-config')?.detail).toBe('imageTag 3.5.35-0 -> 3.6.16-0');
  });
});

test('the release does not start on the second member: both members this run touched are put back, newest first', async () => {
  await withStubWorker(lab('node3'), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, upgradeCluster, `wf-upgrade-undo-${Date.now()}`, { cluster: 'lab', version: '3.6.16', approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('upgradeCluster', err)[0]).toBe('upgradeCluster failed and was undone: failed: node3: etcd failed to start: broken release; the members this run upgraded (node1, node3) run their old release again');
    expect(calls).toEqual(['upgrade:node1', 'upgrade:node3', 'rollback:node3', 'rollback:node1']);
  });
});

test('past the last member nothing is rolled back: a cluster version that does not move stops at a safe point', async () => {
  const stuck = { waitClusterVersion: async () => { throw ApplicationFailure.nonRetryable('cluster version 3.6.0: not reached within 60 s (last seen 3.5.0 (etcd))', 'WaitTimeoutError'); } };
  await withStubWorker(lab(undefined, stuck), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, upgradeCluster, `wf-upgrade-cv-${Date.now()}`, { cluster: 'lab', version: '3.6.16', approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('upgradeCluster', err)[0]).toMatch(/^upgradeCluster stopped at a safe point: failed: cluster version 3\.6\.0: not reached within 60 s .*; every member runs etcd 3\.6\.16/);
    expect(calls.filter((c) => c.startsWith('rollback'))).toEqual([]);
  });
});

test('refused at pre-flight: a 3.5 member below 3.5.26, and a release missing on a node; nothing called', async () => {
  const old = {
    inspectUpgrade: step({ members: [{ node: 'node1', version: '3.5.19', isLeader: true }], releaseProblems: ['node1: /opt/etcd/v3.6.16/etcd is missing or not executable'], unhealthy: [] }),
  };
  await withStubWorker(lab(undefined, old), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, upgradeCluster, `wf-upgrade-refused-${Date.now()}`, { cluster: 'lab', version: '3.6.16', approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('upgradeCluster', err)[0]).toMatch(/pre-flight refused: node1: etcd 3\.5\.19 must first be upgraded to 3\.5\.26 or later before 3\.6 .*; node1: \/opt\/etcd\/v3\.6\.16\/etcd is missing or not executable/);
    expect(calls).toEqual([]);
  });
});

test('dry run: the plan with the projection after each step, nothing called', async () => {
  await withStubWorker(lab(), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, upgradeCluster, `wf-upgrade-plan-${Date.now()}`, { cluster: 'lab', version: '3.6.16', dryRun: true });
    const r = (await h.result()) as unknown as DryRunResult;
    expect(calls).toEqual([]);
    expect(r.plan.map((s) => s.id)).toEqual(['snapshot', 'upgrade:node1', 'upgrade:node3', 'move-leader-off:node2', 'upgrade:node2', 'cluster-version', 'verify']);
    expect(r.plan.find((s) => s.id === 'upgrade:node3')?.projection?.onCancel).toBe(`undoes: put node3's member back on etcd 3.5.35; put node1's member back on etcd 3.5.35`);
  });
});
