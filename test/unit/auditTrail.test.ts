import { trailRows } from '../../audit/trail';

// `etcd-runbooks history` reads the same events the signed audit record holds (audit/record.ts).
test('the trail lists commands, failed steps and approvals of a record in time order', () => {
  const rows = trailRows([
    { type: 'run', runbook: 'removeMember' },
    { type: 'command', step: 'removeMember', node: 'node1', argv: ['etcdctl', 'member', 'remove', 'a1'], exitCode: 0, startedAt: '2026-12-04T10:00:02.000Z', durationMs: 40, output: 'Member a1 removed' },
    { type: 'command', step: 'stopMember', node: 'node3', argv: ['systemctl', 'disable', '--now', 'etcd'], exitCode: 255, startedAt: '2026-12-04T10:00:03.000Z', durationMs: 9000, output: 'ssh: timed out' },
    { type: 'step-failed', step: 'stopMember', node: 'node3', message: 'node3: ssh timed out', at: '2026-12-04T10:00:12.000Z' },
    { type: 'approval', step: 'remove:node3', question: 'remove node3', by: 'bob', at: '2026-12-04T10:00:01.000Z', upFront: false },
    { type: 'evidence', step: 'verifyCluster', node: '-', result: {} },
  ]);
  expect(rows.map((r) => [r.step, r.what, r.outcome])).toEqual([
    ['approval', 'remove:node3: remove node3', 'approved'],
    ['removeMember', 'etcdctl member remove a1', 'ok'],
    ['stopMember', 'systemctl disable --now etcd', 'failed'],
    ['stopMember', '(step failed)', 'failed'],
  ]);
  expect(rows[0]).toMatchObject({ node: 'node3', output: 'approved by bob' });
  expect(rows[3]).toMatchObject({ output: 'node3: ssh timed out', exitCode: null });
});
