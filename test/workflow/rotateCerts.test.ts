import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { step, withStubWorker } from '../support/stubWorker';
import { startSigned } from '../support/temporal';
import { describeFailure } from '../../client/failure';
import { rotateCerts } from '../../workflows';

jest.setTimeout(2 * 60_000);

const calls: string[] = [];
const answer = <T>(result: T) => ({ result, commands: [], commandCount: 0 });
const served = { notAfter: '2027-01-01T00:00:00.000Z', subjectAltName: 'IP Address:10.0.0.1', fingerprint: 'AA' };
const lab = (failOn?: string, extra: Record<string, unknown> = {}) => ({
  inspectCerts: step({ members: [1, 2, 3].map((n) => ({ node: `node${n}`, healthy: true, server: served, peer: served })), problems: [] }),
  rotateMemberCerts: async (input: { node: string; days: number }) => {
    calls.push(`rotate:${input.node}`);
    if (input.node === failOn) throw ApplicationFailure.nonRetryable(`${input.node}: the renewed certificate does not chain to /etc/etcd/pki/ca.crt`, 'CommandFailedError');
    const renewed = ['server', 'peer', 'client'].map((kind) => ({ kind, before: '2027-01-01T00:00:00.000Z', after: '2027-06-01T00:00:00.000Z', already: false }));
    return answer({ node: input.node, renewed, served: { server: { ...served, notAfter: '2027-06-01T00:00:00.000Z' }, peer: { ...served, notAfter: '2027-06-01T00:00:00.000Z' } } });
  },
  restoreMemberCerts: async (input: { node: string }) => { calls.push(`restore:${input.node}`); return answer({ node: input.node, restored: ['server'] }); },
  verifyCluster: async () => { calls.push('verifyCluster'); return answer({ state: { clusterId: 'c1', members: [] }, hash: 1, revision: 9 }); },
  ...extra,
});

beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));
beforeEach(() => { calls.length = 0; });

test('one member at a time in inventory order, approved once, then hashkv', async () => {
  await withStubWorker(lab(), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, rotateCerts, `wf-certs-${Date.now()}`, { cluster: 'lab', approvedBy: 'test', days: 150 });
    const r = await h.result();
    expect(r.nodes.map((n) => n.node)).toEqual(['node1', 'node2', 'node3']);
    expect(calls).toEqual(['rotate:node1', 'rotate:node2', 'rotate:node3', 'verifyCluster']);
  });
});

test('the second member fails: both members\' previous certificates are put back, newest first', async () => {
  await withStubWorker(lab('node2'), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, rotateCerts, `wf-certs-undo-${Date.now()}`, { cluster: 'lab', approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('rotateCerts', err)[0]).toBe('rotateCerts failed and was undone: failed: node2: the renewed certificate does not chain to /etc/etcd/pki/ca.crt; the previous certificates of node1, node2 are back in place');
    expect(calls).toEqual(['rotate:node1', 'rotate:node2', 'restore:node2', 'restore:node1']);
  });
});

test('refused at pre-flight: no CA, a kubeadm runtime, an unreadable served certificate, an unhealthy member', async () => {
  const bad = {
    inspectCerts: step({
      members: [{ node: 'node1', healthy: false, server: served, peer: { error: 'node1: no certificate read from https://10.0.0.1:2380' } }],
      problems: ['the inventory names no certificateAuthority (CA certificate and key on the worker host)'],
    }),
  };
  await withStubWorker(lab(undefined, bad), async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, rotateCerts, `wf-certs-refused-${Date.now()}`, { cluster: 'lab', approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('rotateCerts', err)[0]).toMatch(/pre-flight refused: the inventory names no certificateAuthority .*; node1: not healthy; node1: its peer URL's certificate could not be read: node1: no certificate read from https:\/\/10\.0\.0\.1:2380/);
    expect(calls).toEqual([]);
  });
});
