import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { describeFailure, describeOperationFailure, failureEnd } from '../../client/failure';
import { failureOf } from '../../service/errors';
import type { Operation } from '../../service/operation';

const failed = (cause: Error) => new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE);

describe('how a failed run reads in the CLI', () => {
  test('the cause of a worker-side failure, never "Workflow execution failed"', () => {
    const inner = ApplicationFailure.create({ message: 'node2: not enough free disk for the copy of /b/x.db: /b has 1.0 MiB free, needs 250.0 MiB', type: 'PreconditionError', nonRetryable: true });
    const act = new ActivityFailure('Activity task failed', 'copySnapshot', '7', RetryState.NON_RETRYABLE_FAILURE, 'worker', inner);
    expect(describeFailure('restoreCluster', failed(act))).toEqual(['restoreCluster failed: node2: not enough free disk for the copy of /b/x.db: /b has 1.0 MiB free, needs 250.0 MiB']);
  });
  test('an undone run lists what is left on which node, with the command that finishes it', () => {
    const app = ApplicationFailure.create({ message: 'failed: ssh to node3 timed out; the members this run added (node2, node3) were taken out again', type: 'Compensated', nonRetryable: true,
      details: [{ end: 'undone', leftovers: [{ node: 'node3', what: 'etcd may still run there', fix: 'etcd-runbooks cleanup --node node3' }] }] });
    expect(describeFailure('expandCluster', failed(app))).toEqual([
      'expandCluster failed and was undone: failed: ssh to node3 timed out; the members this run added (node2, node3) were taken out again',
      '  left on node3: etcd may still run there -> etcd-runbooks cleanup --node node3',
    ]);
    expect(failureEnd(failed(app))).toBe('undone');
  });
  test('refusals and safe points are named as such', () => {
    const refused = ApplicationFailure.create({ message: 'pre-flight refused: 3 of 3 voting members may still serve', type: 'PreflightFailed', nonRetryable: true });
    expect(describeFailure('recoverQuorum', failed(refused))[0]).toBe('recoverQuorum refused: pre-flight refused: 3 of 3 voting members may still serve');
    const safe = ApplicationFailure.create({ message: 'cancelled on request; node2 was removed', type: 'RunCancelled', nonRetryable: true, details: [{ end: 'safe point', leftovers: [] }] });
    expect(describeFailure('replaceMember', failed(safe))[0]).toBe('replaceMember cancelled and stopped at a safe point: cancelled on request; node2 was removed');
    expect(failureEnd(failed(safe))).toBe('safe point');
  });
  test('a run read as an operation (the local CLI service) reads the same as its failure; a cancel before any change reads "cancelled"', () => {
    const app = ApplicationFailure.create({ message: 'failed: ssh to node3 timed out', type: 'Compensated', nonRetryable: true,
      details: [{ end: 'undone', leftovers: [{ node: 'node3', what: 'etcd may still run there', fix: 'etcd-runbooks cleanup --node node3' }] }] });
    const op = (e: Error): Operation => ({
      name: 'clusters/lab/runs/r', done: true, run: { workflowId: 'w', runId: 'r', workflow: 'expandCluster', state: 'failed', startedAt: '2026-12-03T10:00:00Z' },
      error: failureOf(failed(e)),
      progress: { runbook: 'expandCluster', cluster: 'lab', outcome: 'failed', steps: [], approvals: [], leftovers: [{ node: 'node3', what: 'etcd may still run there', fix: 'etcd-runbooks cleanup --node node3' }] } as never,
    });
    expect(describeOperationFailure('expandCluster', op(app))).toEqual(describeFailure('expandCluster', failed(app)));
    const early = ApplicationFailure.nonRetryable('cancelled by nobody (cli): wrong node', 'RunCancelled');
    expect(describeFailure('removeMember', failed(early))).toEqual(['removeMember cancelled: cancelled by nobody (cli): wrong node']);
    expect(describeOperationFailure('removeMember', { ...op(early), progress: undefined })).toEqual(['removeMember cancelled: cancelled by nobody (cli): wrong node']);
  });
});
