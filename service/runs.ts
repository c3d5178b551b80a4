import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type Workflow, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { hasRole, SEARCH_ATTRIBUTES, type Actor, type Identity, type Role } from '../domain/identity';
import { inputDigest, type Trust } from '../domain/decision';
import { digestOf } from '../domain/canonical';
import { loadSigner, loadTrust } from '../config/trust';
import type { DecisionSigner } from './signer';
import { describeZodError } from '../domain/inputs';
import type { ApprovalRecord, RejectionRecord, RunbookProgress } from '../domain/progress';
import { accessRef, fourEyesFor, type Access, type AccessRef } from '../config/access';
import { inventoryDigest } from '../inventory/load';
import { nodeByName, type Inventory } from '../inventory/schema';
import type { ClusterState, DoctorRow, KubeState } from '../activities';
import { approveUpdate, cancelUpdate, clusterDoctor, clusterStatus, progressQuery, rejectUpdate, watchQuery } from '../workflows';
import type { WatchView } from '../workflows/watchCluster';
import type { Proposal } from '../domain/watch';
import * as workflows from '../workflows';
import { controlFieldsIn, RUNBOOKS, nodesOf, type RunbookName } from './catalogue';
import { failureOf, grpcCode, isUnavailable, ServiceError } from './errors';
import { runbookWorkflowId, watchId } from './ids';
import { runSummary, transferOf, type ChatThread, type Operation, type RunSummary } from './operation';
import { drillFailures, recoveryPoint, type DrillFailure, type RecoveryPoint } from './recoveryPoint';

/** The inventory of a cluster and the file it came from (for the digest the worker checks). */
export interface InventorySource {
  /** Throws when the cluster has no inventory here. */
  load(cluster: string): { inv: Inventory; file: string };
  /** Every cluster with an inventory here, by name. */
  clusters(): string[];
}

const identityOf = (a: Actor): Identity => ({ principal: a.principal, method: a.method, channel: a.channel });

/**
 * What the service signs decisions with, and the keys runs are told to trust: this front end's
 * signing key and the root-owned trust file (config/trust.ts). `forChannel` picks the key of the
 * channel the person came through (one front end process serves one channel in production).
 */
export interface Authority {
  signer(channel: Identity['channel']): DecisionSigner;
  trust(): Trust;
}

/** The Authority from configuration (ETCD_RUNBOOKS_SIGNING_KEY or /etc/etcd-runbooks/keys/<channel>.pem; ETCD_RUNBOOKS_TRUST), read when first needed. */
export function configuredAuthority(): Authority {
  const signers = new Map<string, DecisionSigner>();
  let trust: Trust | undefined;
  return {
    signer(channel) {
      if (!signers.has(channel)) signers.set(channel, loadSigner(channel));
      return signers.get(channel)!;
    },
    trust() {
      trust ??= loadTrust().trust;
      return trust;
    },
  };
}
const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** Who accepted a proposal and the run it started (read from the cluster's newest run, whose memo names the proposal). */
export interface Acceptance { by: string; runId: string; workflow: string; state: RunSummary['state'] }

/** A proposal as `proposals` shows it: the watch's, with its acceptance when its run is the cluster's newest. */
export type ShownProposal = Proposal & { accepted?: Acceptance };

/** What `proposals` shows: the watch's view, or `watching: false` with nothing when no watch runs. */
export type ProposalsView = { watching: true } & Omit<WatchView, 'proposals'> & { proposals: ShownProposal[] } | { watching: false; cluster: string; proposals: []; reports: [] };

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
  constructor(private readonly client: Client, private readonly taskQueue: string, private readonly inventories: InventorySource, access: Access | AccessRef,
    private readonly workflowIdOf: (cluster: string) => string = runbookWorkflowId, private readonly authority: Authority = configuredAuthority()) {
    this.policy = accessRef(access);
  }

  private readonly policy: AccessRef;

  /**
   * Starts runbook `name` on `cluster` with the runbook's own `fields` (the request body). The
   * requester is `actor`; four-eyes from the access config. With `idempotencyKey`, a repeated call
   * returns the run the first one started (`created: false`) instead of starting another.
   */
  async start(actor: Actor, name: RunbookName, cluster: string, fields: Record<string, unknown>, opts: StartOptions = {}): Promise<{ operation: Operation; created: boolean }> {
    needRole(actor, 'operator', `start ${name}`);
    const entry = RUNBOOKS[name];
    const { inv, file } = this.loadInventory(cluster);
    // The request carries the runbook's own fields only: control fields are refused by name.
    const control = controlFieldsIn(fields);
    if (control.length) throw new ServiceError('invalid', `${name}: ${control.map((f) => `${f}: set by etcd-runbooks from the caller's authentication and the access policy, never by a request`).join('; ')}`);
    const body = entry.body.safeParse(fields);
    if (!body.success) throw new ServiceError('invalid', `${name}: ${describeZodError(body.error)}`);
    const fourEyes = fourEyesFor(this.policy(), entry.workflow);
    if (opts.approvedUpFront) {
      if (fourEyes) throw new ServiceError('forbidden', `${name}: four-eyes: ${actor.principal} may not approve their own ${name} up front; start it without, and another approver approves`);
      needRole(actor, 'approver', `approve ${name} up front`);
    }
    const parsed = entry.schema.safeParse({ ...fields, cluster, inventoryDigest: inventoryDigest(file) });
    if (!parsed.success) throw new ServiceError('invalid', `${name}: ${describeZodError(parsed.error)}`);
    for (const n of nodesOf(fields)) {
      try { nodeByName(inv, n); } catch (e) { throw new ServiceError('invalid', `${name}: ${(e as Error).message}`); }
    }
    const workflowId = this.workflowIdOf(cluster);
    // A key names one request of one person: the same key from someone else, or for another runbook or body, is another request.
    const idempotencyKey = opts.idempotencyKey ? digestOf({ key: opts.idempotencyKey, principal: actor.principal, name, fields: body.data, upFront: Boolean(opts.approvedUpFront) }) : undefined;
    const input = parsed.data as Record<string, unknown>;
    return this.call(async () => {
      if (idempotencyKey) {
        const earlier = await this.byIdempotencyKey(workflowId, idempotencyKey);
        if (earlier) return { operation: await this.get(actor, cluster, earlier), created: false };
      }
      const authority = this.authority.signer(actor.channel).sign(actor, {
        action: 'start', workflowId, runbook: entry.workflow, cluster, fourEyes, approvedUpFront: Boolean(opts.approvedUpFront), input: inputDigest(input),
      });
      try {
        const handle = await this.client.workflow.start(workflows[entry.workflow] as Workflow, {
          taskQueue: this.taskQueue, workflowId, args: [{ ...input, authority, trust: this.authority.trust() }] as never,
          workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'FAIL',
          memo: { requester: identityOf(actor), runbook: name, decisions: 'signed', ...(opts.chat ? { chat: opts.chat } : {}), ...(opts.proposal ? { proposal: opts.proposal } : {}) },
          typedSearchAttributes: [
            { key: { name: SEARCH_ATTRIBUTES.cluster, type: 'KEYWORD' }, value: cluster },
            { key: { name: SEARCH_ATTRIBUTES.requester, type: 'KEYWORD' }, value: actor.principal },
            ...(idempotencyKey ? [{ key: { name: SEARCH_ATTRIBUTES.idempotencyKey, type: 'KEYWORD' as const }, value: idempotencyKey }] : []),
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
        if (idempotencyKey && key === idempotencyKey) return { operation: await this.get(actor, cluster, running.runId), created: false };
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
      const transfer = run.state === 'running' ? transferOf(desc) : undefined;
      if (transfer) op.transfer = transfer;
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

  /** Approves the waiting `step` as `actor` (role approver; the workflow verifies the signed decision, role and four-eyes again). */
  async approve(actor: Actor, cluster: string, step: string, opts: { runId?: string; idempotencyKey?: string } = {}): Promise<ApprovalRecord> {
    needRole(actor, 'approver', 'approve steps');
    return this.decide(cluster, opts, (run) => run.handle.executeUpdate(approveUpdate, {
      args: [{ step, decision: this.sign(actor, run, 'approve', { step }) }], ...this.updateId('approve', actor, run, opts.idempotencyKey, step),
    }));
  }

  /** Rejects the waiting `step` as `actor` with `reason`; the run stops at its safe point. */
  async reject(actor: Actor, cluster: string, step: string, reason: string, opts: { runId?: string; idempotencyKey?: string } = {}): Promise<RejectionRecord> {
    needRole(actor, 'viewer', 'reject steps'); // the requester may stop their own run; the workflow checks the rest
    return this.decide(cluster, opts, (run) => run.handle.executeUpdate(rejectUpdate, {
      args: [{ step, decision: this.sign(actor, run, 'reject', { step, reason }) }], ...this.updateId('reject', actor, run, opts.idempotencyKey, step),
    }));
  }

  /**
   * Cancels the cluster's running run as `actor` with `reason`, through a signed `cancel` update
   * (recorded in its progress, history and audit record): before its point of no return it undoes
   * its changes, after it stops at its safe point. Runs started before 0.6 get a Temporal cancel request.
   */
  async cancel(actor: Actor, cluster: string, reason: string, runId?: string): Promise<RunSummary> {
    needRole(actor, 'viewer', 'cancel runs'); // the requester may cancel their own run; the workflow checks the operator role for others
    return this.call(async () => {
      const run = await this.running(cluster, runId);
      if (run.signed) {
        await this.decide(cluster, { runId: run.desc.runId }, (r) => r.handle.executeUpdate(cancelUpdate, { args: [{ decision: this.sign(actor, r, 'cancel', { reason: reason.slice(0, 500) }) }] }));
      } else {
        needRole(actor, 'operator', 'cancel runs');
        await this.client.workflowService.requestCancelWorkflowExecution({
          namespace: this.client.options.namespace, workflowExecution: { workflowId: run.desc.workflowId, runId: run.desc.runId },
          identity: `${actor.channel}:${actor.principal}`, reason: reason.slice(0, 500), requestId: `cancel-${run.desc.runId}`,
        });
      }
      return runSummary(run.desc);
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

  /**
   * Members, leader, raft index, db size and health of each member, and the control plane's view
   * when the inventory names a Kubernetes cluster, read through the worker (workflows/clusterStatus.ts).
   */
  async status(actor: Actor, cluster: string): Promise<ClusterState & { kube?: KubeState }> {
    needRole(actor, 'viewer', 'read cluster status');
    const { inv, file } = this.loadInventory(cluster);
    return this.call(() => this.client.workflow.execute(clusterStatus, {
      taskQueue: this.taskQueue, workflowId: `${this.workflowIdOf(cluster)}-status-${Date.now()}`,
      args: [{ cluster, inventoryDigest: inventoryDigest(file), ...(inv.kubernetes ? { kube: true } : {}) }],
    }));
  }

  /**
   * `doctor`: every node of the cluster checked before any runbook, one row per check with its fix,
   * read through the worker (workflows/clusterDoctor.ts, activities/doctor/run.ts). Changes nothing.
   */
  async doctor(actor: Actor, cluster: string): Promise<DoctorRow[]> {
    needRole(actor, 'viewer', 'run doctor');
    const { file } = this.loadInventory(cluster);
    return this.call(() => this.client.workflow.execute(clusterDoctor, {
      taskQueue: this.taskQueue, workflowId: `${this.workflowIdOf(cluster)}-doctor-${Date.now()}`,
      args: [{ cluster, inventoryDigest: inventoryDigest(file) }],
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

  /**
   * What the cluster's watch (workflows/watchCluster.ts) proposes and reports: open and recently
   * closed proposals with their evidence, the last probe's time and error. `watching` false when
   * no watch runs for the cluster (the worker starts them with ETCD_RUNBOOKS_WATCH=on).
   */
  async proposals(actor: Actor, cluster: string): Promise<ProposalsView> {
    needRole(actor, 'viewer', 'read the proposals');
    this.loadInventory(cluster);
    try {
      const h = this.client.workflow.getHandle(watchId(cluster));
      // A closed watch is not watching (and a query of it would wait for a worker to replay it).
      if ((await h.describe()).status.name !== 'RUNNING') return { watching: false, cluster, proposals: [], reports: [] };
      const view = await h.query(watchQuery);
      // Only a proposal can have been accepted: no read of the runbook's run without one.
      const accepted = view.proposals.length ? await this.acceptance(cluster) : undefined;
      return { watching: true, ...view, proposals: view.proposals.map((p) => (accepted?.proposal === p.id ? { ...p, accepted: accepted.acceptance } : p)) };
    } catch (e) {
      if (e instanceof WorkflowNotFoundError || grpcCode(e) === 5) return { watching: false, cluster, proposals: [], reports: [] };
      return this.call(() => Promise.reject(e));
    }
  }

  /**
   * Accepts the watch's open proposal `id` as `actor` (role operator): starts its runbook with its
   * fields as `actor` requested it, through start(), so the run has its normal approvals and
   * four-eyes (the person who accepts is the requester; another approver approves). The run's memo
   * names the proposal. Accepting again (same person) returns the run already started.
   * Errors: not-found (no watch, no such proposal), conflict (the proposal was resolved, or a run is
   * going on the cluster), and start()'s.
   */
  async accept(actor: Actor, cluster: string, id: string, opts: Pick<StartOptions, 'chat' | 'idempotencyKey'> = {}): Promise<{ operation: Operation; created: boolean; proposal: Proposal }> {
    needRole(actor, 'operator', 'accept proposals');
    const view = await this.proposals(actor, cluster);
    if (!view.watching) throw new ServiceError('not-found', `no watch runs for ${cluster}: nothing is proposed (the worker keeps one per cluster with ETCD_RUNBOOKS_WATCH=on)`);
    const found = view.proposals.find((p) => p.id === id);
    if (!found) throw new ServiceError('not-found', `no proposal ${id} on ${cluster}; open: ${view.proposals.filter((p) => p.status === 'open').map((p) => p.id).join(', ') || 'none'}`);
    const proposal: Proposal = { ...found };
    delete (proposal as ShownProposal).accepted;
    if (proposal.status !== 'open') throw new ServiceError('conflict', `proposal ${id} on ${cluster} was resolved at ${new Date(proposal.closedAt ?? 0).toISOString()}: the condition cleared, nothing to start`);
    if (!(proposal.runbook in RUNBOOKS)) throw new ServiceError('invalid', `proposal ${id}: runbook ${proposal.runbook} is not in the catalogue`);
    const started = await this.start(actor, proposal.runbook as RunbookName, cluster, proposal.fields, { ...opts, idempotencyKey: opts.idempotencyKey ?? `proposal/${id}`, proposal: id });
    return { ...started, proposal };
  }

  /** The clusters this service has inventories of (what chat bridges read proposals of). */
  clusters(): string[] {
    return this.inventories.clusters();
  }

  /** Restore drills of any cluster that closed after `since` without passing, oldest first (the alerts chat posts). */
  async drillFailures(actor: Actor, since: Date): Promise<DrillFailure[]> {
    needRole(actor, 'viewer', 'read restore drills');
    return this.call(() => drillFailures(this.client, this.taskQueue, since));
  }

  private loadInventory(cluster: string): { inv: Inventory; file: string } {
    try { return this.inventories.load(cluster); } catch (e) { throw new ServiceError('not-found', (e as Error).message); }
  }

  /** The proposal the cluster's newest run was started for, with who accepted it; none when it was not started by an accept. */
  private async acceptance(cluster: string): Promise<{ proposal: string; acceptance: Acceptance } | undefined> {
    const desc = await this.client.workflow.getHandle(this.workflowIdOf(cluster)).describe().catch(() => undefined);
    const memo = (desc?.memo ?? {}) as { proposal?: string; requester?: Identity };
    if (!desc || !memo.proposal) return undefined;
    const run = runSummary(desc);
    return { proposal: memo.proposal, acceptance: { by: memo.requester?.principal ?? run.requester ?? '?', runId: desc.runId, workflow: desc.type, state: run.state } };
  }

  private async byIdempotencyKey(workflowId: string, key: string): Promise<string | undefined> {
    const query = `WorkflowId = ${quote(workflowId)} AND ${SEARCH_ATTRIBUTES.idempotencyKey} = ${quote(key)}`;
    for await (const w of this.client.workflow.list({ query, pageSize: 1 })) return w.runId;
    return undefined;
  }

  /** The cluster's running run (or `runId`), whether it takes signed decisions, and its runbook; not-found / conflict otherwise. */
  private async running(cluster: string, runId?: string): Promise<RunRef> {
    const handle = this.client.workflow.getHandle(this.workflowIdOf(cluster), runId);
    let desc;
    try { desc = await handle.describe(); } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw new ServiceError('not-found', `no run on cluster ${cluster}`);
      throw e;
    }
    if (desc.status.name !== 'RUNNING') throw new ServiceError('conflict', `no runbook is running on ${cluster} (last: ${desc.type}, ${desc.status.name})`);
    // Runs started since 0.6 take signed decisions only; the service marks them in the memo.
    const signed = (desc.memo as { decisions?: string } | undefined)?.decisions === 'signed';
    return { handle: this.client.workflow.getHandle(desc.workflowId, desc.runId), desc, cluster, signed };
  }

  private sign(actor: Actor, run: RunRef, action: 'approve' | 'reject' | 'cancel', extra: { step?: string; reason?: string }) {
    return this.authority.signer(actor.channel).sign(actor, { action, workflowId: run.desc.workflowId, runId: run.desc.runId, runbook: run.desc.type, cluster: run.cluster, ...extra });
  }

  /** Temporal's update id for a decision with an Idempotency-Key: scoped to the person, the run and the step. */
  private updateId(action: string, actor: Actor, run: RunRef, key: string | undefined, step: string): { updateId?: string } {
    return key ? { updateId: `${action}-${digestOf({ key, principal: actor.principal, run: run.desc.runId, step })}` } : {};
  }

  private async decide<T>(cluster: string, opts: { runId?: string }, update: (run: RunRef) => Promise<T>): Promise<T> {
    return this.call(async () => {
      const run = await this.running(cluster, opts.runId);
      try {
        return await update(run);
      } catch (e) {
        if (e instanceof WorkflowNotFoundError) throw new ServiceError('not-found', `no run is waiting on cluster ${cluster}`);
        if (e instanceof WorkflowUpdateFailedError) {
          const msg = (e.cause as Error | undefined)?.message ?? e.message;
          throw new ServiceError(/four-eyes|role|decision/.test(msg) ? 'forbidden' : 'conflict', msg);
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

/** How start() is asked: an Idempotency-Key, the caller approving up front, the chat thread to follow in, the proposal it accepts (memo). */
export interface StartOptions { idempotencyKey?: string; approvedUpFront?: boolean; chat?: ChatThread; proposal?: string }

/** A running run the service decides on. */
interface RunRef { handle: WorkflowHandle; desc: WorkflowExecutionDescription; cluster: string; signed: boolean }

function needRole(actor: Actor, role: Role, what: string): void {
  if (!hasRole(actor.roles, role)) throw new ServiceError('forbidden', `${actor.principal} (${actor.method}) may not ${what}: needs the ${role} role`);
}

export type { RunbookProgress };
