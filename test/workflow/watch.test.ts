import { ApplicationFailure } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { withStubWorker } from '../support/stubWorker';
import { eventually } from '../support/temporal';
import { watchCluster, watchQuery } from '../../workflows';
import type { WatchProbe, WatchedMember } from '../../domain/watch';
import type { WatchView } from '../../workflows/watchCluster';

jest.setTimeout(2 * 60_000);

const m = (node: string, etcd: WatchedMember['etcd'], ssh = true): WatchedMember => ({ node, learner: false, etcd, ssh });
/** Scripted probes, 15 s apart on the probe's own clock: node2 silent from the 2nd to the 8th, the 4th probe fails. */
function script() {
  let n = 0;
  const inputs: string[][] = [];
  const probeWatch = async (input: { members: string[] }) => {
    n++;
    inputs.push(input.members);
    if (n === 4) throw ApplicationFailure.nonRetryable('no node answered SSH', 'Error');
    const lost = n >= 2 && n <= 8;
    const probe: WatchProbe = { at: n * 15_000, members: [m('node1', 'serving'), m('node2', lost ? 'silent' : 'serving', !lost), m('node3', 'serving')], spare: ['node4'], alarms: { noSpace: [], corrupt: [] }, foreign: [] };
    return { result: { probe, memberNodes: ['node1', 'node2', 'node3'] }, commands: [], commandCount: 0 };
  };
  return { probeWatch, inputs, count: () => n };
}

beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));

test('a silent member becomes a replace proposal past 60 s, a failed probe is counted, the proposal resolves; the state survives continue-as-new', async () => {
  const s = script();
  await withStubWorker({ probeWatch: s.probeWatch }, async (client, taskQueue) => {
    const h = await client.workflow.start(watchCluster, { taskQueue, workflowId: `wf-watch-${Date.now()}`, args: [{ cluster: 'lab', intervalSeconds: 1, probesPerRun: 3 }] });
    try {
      const opened = await eventually('proposal open', async () => { const v: WatchView = await h.query(watchQuery); return v.proposals.find((p) => p.status === 'open') ? v : undefined; }, 60_000);
      // Seen from the 2nd probe (30 s), the 4th failed, open at the 6th (90 s): 60 s after it was first seen.
      expect(opened.proposals).toEqual([expect.objectContaining({ id: 'member-silent:node2@30000', runbook: 'replace', fields: { failed: 'node2', replacement: 'node4' }, since: 30_000, openedAt: 90_000 })]);
      expect(opened.failedProbes).toBe(1);
      const resolved = await eventually('resolved', async () => { const v: WatchView = await h.query(watchQuery); return v.proposals[0]?.status === 'resolved' ? v : undefined; }, 60_000);
      expect(resolved.proposals[0]).toMatchObject({ closedAt: 135_000 });
      // Three probes per run: the proposal was opened in the second run and resolved in the third.
      const runs: string[] = [];
      for await (const w of client.workflow.list({ query: `WorkflowId = "${h.workflowId}"` })) runs.push(w.runId);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      // Each probe after the first is given the member nodes the one before read.
      expect(s.inputs.slice(0, 2)).toEqual([[], ['node1', 'node2', 'node3']]);
    } finally {
      await h.terminate('test done');
    }
  });
});
