import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type Workflow } from '@temporalio/client';
import { hasRole, SEARCH_ATTRIBUTES, type Actor, type Identity, type Role } from '../domain/identity';
import { describeZodError } from '../domain/inputs';
import type { ApprovalRecord, RejectionRecord, RunbookProgress } from '../domain/progress';
import { fourEyesFor, type Access } from '../config/access';
import { inventoryDigest } from '../inventory/load';
import { nodeByName, type Inventory } from '../inventory/schema';
import type { ClusterState } from '../activities';
import { approveUpdate, clusterStatus, progressQuery, rejectUpdate } from '../workflows';
import * as workflows from '../workflows';
import { RUNBOOKS, nodesOf, type RunbookName } from './catalogue';
import { failureOf, grpcCode, isUnavailable, ServiceError } from './errors';
import { runbookWorkflowId } from './ids';
import { runSummary, type ChatThread, type Operation, type RunSummary } from './operation';
import { drillFailures, recoveryPoint, type DrillFailure, type RecoveryPoint } from './recoveryPoint';

/** The inventory of a cluster and the file it came from (for the digest the worker checks). */
export interface InventorySource {
  /** Throws when the cluster has no inventory here. */
  load(cluster: string): { inv: Inventory; file: string };
}

const identityOf = (a: Actor): Identity => ({ principal: a.principal, method: a.method, channel: a.channel });
const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/**
 * The one way into Temporal for the CLI, the HTTP API and the chat bridges: start a runbook with
 * validated input, read a run as an operation (plan, progress, waiting step, result or error),
 * approve or reject the waiting step, cancel, and list runs. Every call takes the caller's
 * authenticated Actor and checks its role (viewer reads, operator starts and cancels, approver
 * decides); the workflow's update validators check roles and four-eyes again.
 * Errors: ServiceError (errors.ts), `unavailable` when Temporal does not answer.
 */
export class RunService {
  /** `workflowIdOf`: the cluster's workflow id (default service/ids.ts; tests sharing a server pass their own). */
  constructor(private readonly client: Client, private readonly taskQueue: string, private readonly inventories: InventorySource, private readonly access: Access,
    private readonly workflowIdOf: (cluster: string) => string = runbookWorkflowId) {}

  /**
   * Starts runbook `name` on `cluster` with the runbook's own `fields` (the request body). The
   * requester is `actor`; four-eyes from the access config. With `idempotencyKey`, a repeated call
   * returns the run the first one started (`created: false`) instead of starting another.
   */
  async start(actor: Actor, name: RunbookName, cluster: string, fields: Record<string, unknown>, opts: { idempotencyKey?: string; approvedUpFront?: boolean; chat?: ChatThread } = {}): Promise<{ operation: Operation; created: boolean }> {
    needRole(actor, 'operator', `start ${name}`);
    const entry = RUNBOOKS[name];
    const { inv, file } = this.loadInventory(cluster);
    const parsed = entry.schema.safeParse({
      ...fields, cluster, inventoryDigest: inventoryDigest(file), requester: identityOf(actor), fourEyes: fourEyesFor(this.access, entry.workflow),
      ...(opts.approvedUpFront ? { approvedBy: actor.principal } : {}),
    });
    if (!parsed.success) throw new ServiceError('invalid', `${name}: ${describeZodError(parsed.error)}`);
    for (const n of nodesOf(fields)) {
      try { nodeByName(inv, n); } catch (e) { throw new ServiceError('invalid', `${name}: ${(e as Error).message}`); }
    }
    if (opts.approvedUpFront && fourEyesFor(this.access, entry.workflow)) {
      throw new ServiceError('forbidden', `${name}: four-eyes: ${actor.principal} may not approve their own ${name} up front; start it without, and another approver approves`);
    }
    const workflowId = this.workflowIdOf(cluster);
    return this.call(async () => {
      if (opts.idempotencyKey) {
        const earlier = await this.byIdempotencyKey(workflowId, opts.idempotencyKey);
        if (earlier) return { operation: await this.get(actor, cluster, earlier), created: false };
      }
      try {
        const handle = await this.client.workflow.start(workflows[entry.workflow] as Workflow, {
          taskQueue: this.taskQueue, workflowId, args: [parsed.data] as never,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'FAIL',
          memo: { requester: identityOf(actor), runbook: name, ...(opts.chat ? { chat: opts.chat } : {}) },
          typedSearchAttributes: [
            { key: { name: SEARCH_ATTRIBUTES.cluster, type: 'KEYWORD' }, value: cluster },
            { key: { name: SEARCH_ATTRIBUTES.requester, type: 'KEYWORD' }, value: actor.principal },
            ...(opts.idempotencyKey ? [{ key: { name: SEARCH_ATTRIBUTES.idempotencyKey, type: 'KEYWORD' as const }, value: opts.idempotencyKey }] : []),
          ],
        });
        // Just started: its plan is being made (pre-flight), so no read of the run is worth waiting for.
        const runId = handle.firstExecutionRunId;
        const operation: Operation = {
          name: `clusters/${cluster}/runs/${runId}`, done: false, requester: identityOf(actor), ...(opts.chat ? { chat: opts.chat } : {}),
          run: { workflowId, runId, workflow: entry.workflow, cluster, state: 'running', requester: actor.principal, startedAt: new Date().toISOString() },
        };
        return { operation, created: true };
      } catch (e) {
        if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
        const running = await this.client.workflow.getHandle(workflowId).describe();
        const key = (running.searchAttributes as Record<string, unknown[]>)[SEARCH_ATTRIBUTES.idempotencyKey]?.[0];
        if (opts.idempotencyKey && key === opts.idempotencyKey) return { operation: await this.get(actor, cluster, running.runId), created: false };
        throw new ServiceError('conflict', `a runbook is already running on cluster ${cluster} (${running.type}, run ${running.runId}); wait for it or cancel it`);
      }
    });
  }

  /** The run `runId` of `cluster` (default: the newest) as an operation. */
  async get(actor: Actor, cluster: string, runId?: string): Promise<Operation> {
    needRole(actor, 'viewer', 'read runs');
    return this.call(async () => {
      const handle = this.client.workflow.getHandle(this.workflowIdOf(cluster), runId);
      let desc;
      try { desc = await handle.describe(); } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new ServiceError('not-found', `no run ${runId ?? ''} on cluster ${cluster}`.replace('  ', ' '));
        throw e;
      }
      const run = runSummary(desc);
      const memo = (desc.memo ?? {}) as { requester?: Identity; chat?: ChatThread };
      // Without a worker a query waits for one; the operation is still useful without its progress.
      const progress = await this.client.withDeadline(Date.now() + 5000, () => handle.query(progressQuery)).catch(() => undefined);
      const op: Operation = {
        name: `clusters/${cluster}/runs/${desc.runId}`, done: run.state !== 'running', run,
        ...(memo.requester ? { requester: memo.requester } : {}), ...(memo.chat ? { chat: memo.chat } : {}), ...(progress ? { progress } : {}),
      };
      if (op.done) {
        try {
          op.response = await this.client.workflow.getHandle(desc.workflowId, desc.runId).result();
        } catch (e) {
          op.error = failureOf(e);
        }
      }
      return op;
    });
  }

  /** Approves the waiting `step` as `actor` (role approver; four-eyes checked by the workflow). */
  async approve(actor: Actor, cluster: string, step: string, opts: { runId?: string; idempotencyKey?: string } = {}): Promise<ApprovalRecord> {
    const { runId, idempotencyKey } = opts;
    needRole(actor, 'approver', 'approve steps');
    return this.decide(cluster, () => this.client.workflow.getHandle(this.workflowIdOf(cluster), runId).executeUpdate(approveUpdate, {
      args: [{ step, by: actor.principal, approver: actor }], ...(idempotencyKey ? { updateId: `approve-${idempotencyKey}` } : {}),
    }));
  }

  /** Rejects the waiting `step` as `actor` with `reason`; the run stops at its safe point. */
  async reject(actor: Actor, cluster: string, step: string, reason: string, opts: { runId?: string; idempotencyKey?: string } = {}): Promise<RejectionRecord> {
    const { runId, idempotencyKey } = opts;
    needRole(actor, 'viewer', 'reject steps'); // the requester may stop their own run; the workflow checks the rest
    return this.decide(cluster, () => this.client.workflow.getHandle(this.workflowIdOf(cluster), runId).executeUpdate(rejectUpdate, {
      args: [{ step, by: actor, reason }], ...(idempotencyKey ? { updateId: `reject-${idempotencyKey}` } : {}),
    }));
  }

  /**
   * Asks the cluster's running run to cancel (recorded in its history with `actor` and `reason`):
   * before its point of no return it undoes its changes, after it stops at its safe point.
   */
  async cancel(actor: Actor, cluster: string, reason: string, runId?: string): Promise<RunSummary> {
    needRole(actor, 'operator', 'cancel runs');
    return this.call(async () => {
      const handle = this.client.workflow.getHandle(this.workflowIdOf(cluster), runId);
      let desc;
      try { desc = await handle.describe(); } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new ServiceError('not-found', `no run on cluster ${cluster}`);
        throw e;
      }
      if (desc.status.name !== 'RUNNING') throw new ServiceError('conflict', `no runbook is running on ${cluster} (last: ${desc.type}, ${desc.status.name})`);
      await this.client.workflowService.requestCancelWorkflowExecution({
        namespace: this.client.options.namespace, workflowExecution: { workflowId: desc.workflowId, runId: desc.runId },
        identity: `${actor.channel}:${actor.principal}`, reason: reason.slice(0, 500), requestId: `cancel-${desc.runId}`,
      });
      return runSummary(desc);
    });
  }

  /** Runs started through the service on its task queue, newest first, from the visibility store (no replay). */
  async list(actor: Actor, cluster?: string, limit = 50): Promise<RunSummary[]> {
    needRole(actor, 'viewer', 'list runs');
    const query = `TaskQueue = ${quote(this.taskQueue)} AND ${cluster ? `${SEARCH_ATTRIBUTES.cluster} = ${quote(cluster)}` : `${SEARCH_ATTRIBUTES.cluster} IS NOT NULL`}`;
    return this.call(async () => {
      const out: RunSummary[] = [];
      for await (const w of this.client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
        out.push(runSummary(w));
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  /** Members, leader, raft index, db size and health of each member, read through the worker (workflows/clusterStatus.ts). */
  async status(actor: Actor, cluster: string): Promise<ClusterState> {
    needRole(actor, 'viewer', 'read cluster status');
    const { file } = this.loadInventory(cluster);
    return this.call(() => this.client.workflow.execute(clusterStatus, {
      taskQueue: this.taskQueue, workflowId: `${this.workflowIdOf(cluster)}-status-${Date.now()}`, args: [{ cluster, inventoryDigest: inventoryDigest(file) }],
    }));
  }

  /**
   * The recovery point of `cluster`: the newest backup that passed a restore drill, and the newest
   * drill when it failed after that (the alert). From the drill runs in Temporal (recoveryPoint.ts).
   */
  async recoveryPoint(actor: Actor, cluster: string): Promise<RecoveryPoint> {
    needRole(actor, 'viewer', 'read the recovery point');
    this.loadInventory(cluster);
    return this.call(() => recoveryPoint(this.client, this.taskQueue, cluster));
  }

  /** Restore drills of any cluster that closed after `since` without passing, oldest first (the alerts chat posts). */
  async drillFailures(actor: Actor, since: Date): Promise<DrillFailure[]> {
    needRole(actor, 'viewer', 'read restore drills');
    return this.call(() => drillFailures(this.client, this.taskQueue, since));
  }

  private loadInventory(cluster: string): { inv: Inventory; file: string } {
    try { return this.inventories.load(cluster); } catch (e) { throw new ServiceError('not-found', (e as Error).message); }
  }

  private async byIdempotencyKey(workflowId: string, key: string): Promise<string | undefined> {
    const query = `WorkflowId = ${quote(workflowId)} AND ${SEARCH_ATTRIBUTES.idempotencyKey} = ${quote(key)}`;
    for await (const w of this.client.workflow.list({ query, pageSize: 1 })) return w.runId;
    return undefined;
  }

  private async decide<T>(cluster: string, update: () => Promise<T>): Promise<T> {
    return this.call(async () => {
      try {
        return await update();
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new ServiceError('not-found', `no run is waiting on cluster ${cluster}`);
        if (e instanceof WorkflowUpdateFailedError) {
          const msg = (e.cause as Error | undefined)?.message ?? e.message;
          throw new ServiceError(/four-eyes|role/.test(msg) ? 'forbidden' : 'conflict', msg);
        }
        throw e;
      }
    });
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ServiceError) throw e;
      if (isUnavailable(e)) throw new ServiceError('unavailable', `Temporal is not reachable: ${(e as Error).message}`);
      const code = grpcCode(e);
      // NOT_FOUND: no such run; INVALID_ARGUMENT: an id Temporal does not accept.
      if (code === 5 || e instanceof WorkflowNotFoundError) throw new ServiceError('not-found', `no such run: ${(e as Error).message}`);
      if (code === 3) throw new ServiceError('invalid', (e as Error).message);
      throw e;
    }
  }
}

function needRole(actor: Actor, role: Role, what: string): void {
  if (!hasRole(actor.roles, role)) throw new ServiceError('forbidden', `${actor.principal} (${actor.method}) may not ${what}: needs the ${role} role`);
}

export type { RunbookProgress };
