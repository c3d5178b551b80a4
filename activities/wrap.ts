import type { Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { InventoryError, UnknownNodeError } from '../inventory/schema';
import { KubeadmConfigError } from './kube/kubeadmConfig';
import type { CommandRecord, Step } from './audit';
import { ClusterOps } from './cluster';
import { PreconditionError, WaitTimeoutError } from './errors';
import type { InventoryRegistry } from './registry';
import { HostKeyMismatchError } from './ssh/fingerprint';
import type { SshPool } from './ssh/session';
import type { CommandJournal } from '../audit/journal';

/** Every activity input names the cluster; the worker resolves the rest from its inventory. */
export interface ClusterInput {
  cluster: string;
  /** SHA-256 of the inventory file the run was started with (checked against the worker's). */
  inventoryDigest?: string;
  /** Digest of the trusted keys the run verified its decisions with (signed runs; checked against the worker's trust file). */
  trustDigest?: string;
}

/**
 * What activities share in a worker: inventories, SSH sessions, (optional) the command journal,
 * the digest of the worker's own trust file (config/trust.ts; undefined: the worker has none,
 * and acts for no signed run), and (optional) the worker's Temporal client and task queue for the
 * watch's reads of Temporal (a run going on the cluster, the recovery point).
 */
export interface ActivityDeps { registry: InventoryRegistry; pool: SshPool; journal?: CommandJournal; trustDigest?: () => string | undefined; temporal?: { client: Client; taskQueue: string } }

/**
 * Refuses a signed run whose pinned keys are not the worker's: a start that brought keys of its
 * own (and decisions signed with them) passes the workflow's checks but does nothing on a node.
 */
function checkTrust(deps: ActivityDeps, input: ClusterInput): void {
  if (input.trustDigest === undefined) return;
  const mine = deps.trustDigest?.();
  if (input.trustDigest !== mine) {
    throw new PreconditionError(`this run trusts other decision keys than this worker's trust file (${mine ? `digest ${mine.slice(0, 16)}…` : 'none'}); it was not started by this install's front ends: refused`);
  }
}

const NON_RETRYABLE = [PreconditionError, WaitTimeoutError, HostKeyMismatchError, InventoryError, UnknownNodeError, KubeadmConfigError];

/**
 * `probe`: a watch's read-only probe, run every few seconds: its commands are neither journaled
 * nor kept in the result (they change nothing, and the audit trail and the watch's history would
 * grow by thousands a day); a failed probe's commands still go into its failure's details.
 */
export interface ActivityOptions { probe?: boolean }

/**
 * Turns `fn(ops, input)` into a Temporal activity returning Step<T>: the result plus every command
 * it ran. Failures become ApplicationFailures whose type is the error class and whose details hold
 * the commands (audit trail of a failed step); preconditions, host-key mismatches and exhausted
 * waits are non-retryable, transient etcd refusals and connection errors are retried by Temporal.
 */
export function clusterActivity<I extends ClusterInput, T>(deps: ActivityDeps, fn: (ops: ClusterOps, input: I) => Promise<T>, opts: ActivityOptions = {}) {
  return async (input: I): Promise<Step<T>> => {
    let ops: ClusterOps | undefined;
    try {
      checkTrust(deps, input);
      const inv = deps.registry.load(input.cluster, input.inventoryDigest);
      const active = inActivity();
      const heartbeat = active ? (details?: unknown) => Context.current().heartbeat(details) : undefined;
      const cancelled = active ? () => Context.current().cancellationSignal.aborted : undefined;
      const journalFailures = { count: 0, first: '' };
      ops = new ClusterOps(inv, deps.pool, heartbeat, cancelled, active && !opts.probe ? journalOf(deps, journalFailures, input.cluster) : undefined);
      const result = await fn(ops, input);
      return { result, commands: opts.probe ? [] : ops.commands.records, commandCount: ops.commands.count, ...(journalFailures.count ? { journalFailures } : {}) };
    } catch (e) {
      if (e instanceof CancelledFailure) throw e;
      const err = e as Error;
      const nonRetryable = NON_RETRYABLE.some((c) => err instanceof c);
      throw ApplicationFailure.create({ message: err.message, type: err.name || 'Error', nonRetryable, details: [ops?.commands.records ?? []], cause: err });
    }
  };
}

/**
 * Journals each command of this attempt (every attempt's, for the audit record). A failed write is
 * logged and counted in `failures` (the step's result carries it into the audit record); it does
 * not fail the step.
 */
function journalOf(deps: ActivityDeps, failures: { count: number; first: string }, cluster: string): ((r: CommandRecord) => void) | undefined {
  const journal = deps.journal;
  if (!journal) return undefined;
  const info = Context.current().info;
  const at = { workflowId: info.workflowExecution.workflowId, runId: info.workflowExecution.runId, activityId: info.activityId, activityType: info.activityType, attempt: info.attempt, workflowType: info.workflowType, cluster, taskQueue: info.taskQueue };
  return (r) => {
    try {
      journal.append(at, r);
    } catch (e) {
      failures.count++;
      if (!failures.first) failures.first = (e as Error).message.slice(0, 300);
      Context.current().log.warn(`audit journal: ${(e as Error).message}`);
    }
  };
}

function inActivity(): boolean {
  try {
    Context.current();
    return true;
  } catch {
    return false;
  }
}
