import { DefaultLogger, Runtime } from '@temporalio/worker';
import { step, withStubWorker } from '../support/stubWorker';
import { describeFailure } from '../../client/failure';
import { recoverQuorum } from '../../workflows';
import { startSigned } from '../support/temporal';

jest.setTimeout(2 * 60_000);

const seen = (node: string) => ({ node, ssh: { ok: true }, seenBy: [], selfSeen: node === 'node1', workerTcp: { client: node === 'node1', peer: node === 'node1' } });

// Workflow logic on the real Temporal server, with the activities answering as a lab would: a
// failed invariant must end the run as Failed (a plain Error would fail the workflow task, which
// Temporal retries forever, leaving the run Running).
// The systemd runtime's words, as gatherEvidence returns them.
const SYSTEMD_TEXTS = { fencing: 'stop, disable and mask etcd', liftFence: 'systemctl unmask --runtime etcd.service', forceNewClusterAt: 'the drop-in /etc/systemd/system/etcd.service.d/etcd-runbooks-force-new-cluster.conf' };

test('an invariant that fails after --force-new-cluster ends the run as Failed, with its safe point', async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const activities = {
    probeLiveness: step([seen('node1'), seen('node2'), seen('node3')]),
    gatherEvidence: step([
      { node: 'node1', reachable: true, etcdActive: true, source: 'status', raftTerm: 5, raftIndex: 900, raftAppliedIndex: 900, revision: 100, runtime: SYSTEMD_TEXTS },
      { node: 'node2', reachable: true, etcdActive: false, source: 'files', raftTerm: 0, raftIndex: 0, runtime: SYSTEMD_TEXTS },
      { node: 'node3', reachable: true, etcdActive: false, source: 'files', raftTerm: 0, raftIndex: 0, runtime: SYSTEMD_TEXTS },
    ]),
    fenceMember: step({ service: 'stopped' }),
    backupDataDir: step({ copy: '/var/lib/etcd/default.backup-x' }),
    viewFromSurvivor: step([]),
    etcdServiceState: step({ service: 'stopped' }),
    // a cluster that backs no Kubernetes control plane (no kubernetes section in the inventory)
    inspectKube: step({ enabled: false, desired: [], nodes: [] }),
    // the survivor comes back with fewer revisions than it had: the invariant fails
    forceNewCluster: step({ memberId: 'a1', clusterId: 'c1', peerURLs: [], members: 1, status: { revision: 50 } }),
  };
  await withStubWorker(activities, async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, recoverQuorum, `wf-invariant-${Date.now()}`, { cluster: 'lab', members: ['node1', 'node2', 'node3'], approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect((await h.describe()).status.name).toBe('FAILED');
    const lines = describeFailure('recoverQuorum', err);
    expect(lines[0]).toMatch(/^recoverQuorum stopped at a safe point: failed: node1: revision 50 after --force-new-cluster is below the 100 it had; past the point of no return/);
    // Where the flag is comes from the runtime (gatherEvidence), not from the workflow.
    expect(lines.slice(1).join('\n')).toMatch(/left on node1: etcd may still carry --force-new-cluster \(the drop-in \/etc\/systemd\/system\/etcd.service.d\/etcd-runbooks-force-new-cluster.conf\)/);
  });
});

// The most advanced member is cut off (its etcd runs, only its own node reaches it): forcing it
// alone would leave a cluster nobody can join, so pre-flight refuses before anything is fenced.
test('recover-quorum refuses a survivor whose etcd only its own node reaches, before fencing', async () => {
  const fenced: string[] = [];
  const activities = {
    // node1 listens (the worker reaches its ports); node2 and node3 are cut off but hold index 210
    probeLiveness: step([seen('node1'), { ...seen('node2'), selfSeen: true }, { ...seen('node3'), selfSeen: true }]),
    gatherEvidence: step([
      { node: 'node1', reachable: true, etcdActive: true, source: 'status', raftTerm: 2, raftIndex: 209, raftAppliedIndex: 209, revision: 201, runtime: SYSTEMD_TEXTS },
      { node: 'node2', reachable: true, etcdActive: true, source: 'status', raftTerm: 3, raftIndex: 210, raftAppliedIndex: 210, revision: 201, runtime: SYSTEMD_TEXTS },
      { node: 'node3', reachable: true, etcdActive: true, source: 'status', raftTerm: 3, raftIndex: 210, raftAppliedIndex: 210, revision: 201, runtime: SYSTEMD_TEXTS },
    ]),
    fenceMember: async (input: { node: string }) => { fenced.push(input.node); return { result: { service: 'stopped' }, commands: [], commandCount: 0 }; },
  };
  await withStubWorker(activities, async (client, taskQueue) => {
    const h = await startSigned(client, taskQueue, recoverQuorum, `wf-isolated-${Date.now()}`, { cluster: 'lab', members: ['node1', 'node2', 'node3'], approvedBy: 'test' });
    const err = await h.result().catch((e) => e);
    expect(describeFailure('recoverQuorum', err)[0]).toMatch(/pre-flight refused: node2 holds the most advanced data \(node2: running, term 3, index 210.*reachable only from its own node/);
    expect(fenced).toEqual([]);
  });
});
