import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Etcd3 } from 'etcd3';
import { inventoryDigest } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import { progressQuery } from '../../workflows';
import { describeFailure, failureEnd } from '../../client/failure';
import { expectSafe, writeBulk } from './cluster';
import { memberClient } from './etcd';
import { freshLabWith, INVENTORY, lab, type LabEtcd } from './lab';
import { eventually, startWorkerAndClient } from './temporal';
import { formatRows, type MatrixRow } from './faultTable';

/** Database size every fault case starts from (issue: "a database of at least 200 MB"). */
export const MATRIX_MIB = 200;

/** How a run ended, in the fault matrix's words. */
export type EndState = 'completed' | 'refused' | 'undone' | 'safe point' | 'failed before any change';

/** What a case must end with, asserted from etcd itself. */
export interface Expect { end: EndState; minVoters: number; members?: string[]; leftoverOn?: string[] }

export type Env = Awaited<ReturnType<typeof startWorkerAndClient>>;

/** The lab, worker and helpers one matrix file shares between its cases. */
export class Matrix {
  env!: Env;
  inv!: Inventory;
  rows: MatrixRow[] = [];
  private clients: Etcd3[] = [];

  constructor(readonly runbook: string) {}

  async stop(): Promise<void> {
    this.clients.forEach((c) => c.close());
    await this.env?.stop();
    const dir = join(__dirname, '..', '..', '.state', 'fault-matrix');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.runbook}.json`), JSON.stringify(this.rows, null, 2));
    console.log(formatRows(this.rows));
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  }

  /** A fresh lab of `nodes` nodes (etcd versions `v`), the first `members` a cluster holding MATRIX_MIB of data. */
  async freshLab(nodes: number, members: number, v: LabEtcd = {}): Promise<Inventory> {
    this.clients.forEach((c) => c.close());
    this.clients = [];
    this.inv = freshLabWith(nodes, members, v);
    // The worker indexes the inventory when it starts: after the first lab is up.
    this.env ??= await startWorkerAndClient([INVENTORY]);
    await writeBulk(this.etcd('node1'), 'bulk/', MATRIX_MIB);
    return this.inv;
  }

  etcd(node: string): Etcd3 {
    const c = memberClient(this.inv, node);
    this.clients.push(c);
    return c;
  }

  /** Freezes the node for `ms` (longer than the 6 s heartbeat timeout), then thaws it. */
  async freezeFor(node: string, ms = 12_000): Promise<void> {
    lab('freeze', node);
    await new Promise((r) => setTimeout(r, ms));
    lab('thaw', node);
  }

  base() {
    return { cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY) };
  }

  /** Waits until step `id` of the run is in one of `statuses` (or the run has closed). */
  async stepReaches(h: WorkflowHandle, id: string, statuses: string[], timeoutMs = 300_000): Promise<void> {
    // `eventually` retries on errors: report a closed run as a value, then fail at once.
    const r = await eventually(`${id} ${statuses.join('|')}`, async () => {
      const p = await h.query(progressQuery);
      const s = p.steps.find((x) => x.id === id)?.status ?? '';
      if (statuses.includes(s)) return 'reached';
      const d = await h.describe();
      return d.status.name !== 'RUNNING' ? `closed (${d.status.name}): ${p.message ?? ''}` : undefined;
    }, timeoutMs);
    if (r !== 'reached') throw new Error(`run ${r} before ${id} reached ${statuses.join('|')}`);
  }

  /**
   * Runs one case: `run` starts the runbook and injects the fault, `heal` repairs the lab after the
   * run ends; then the end state is classified and asserted from etcd (one cluster, no learner,
   * at least `minVoters` serving voters, no --force-new-cluster left, members as expected).
   */
  async runCase(fault: string, expect: Expect, run: () => Promise<WorkflowHandle>, heal?: () => unknown): Promise<void> {
    const started = Date.now();
    const h = await run();
    const outcome = await h.result().then(() => undefined, (e) => e);
    const seconds = (Date.now() - started) / 1000;
    await heal?.();
    const p = await h.query(progressQuery).catch(() => undefined);
    const end = classify(outcome);
    const leftovers = (p?.leftovers ?? []).map((l) => l.node);
    let members = '';
    let ok = false;
    try {
      // The cluster may need a few seconds after a heal (an election): settle, then assert once more.
      const view = await eventually('the cluster is safe', async () => expectSafe(this.inv, expect.minVoters), 60_000).catch(() => expectSafe(this.inv, expect.minVoters));
      members = view.find((v) => v.serving)?.members?.join(',') ?? '';
      if (end !== expect.end) throw new Error(`${this.runbook} × ${fault}: ended ${end}, expected ${expect.end}: ${outcome ? describeFailure(this.runbook, outcome).join(' | ') : 'completed'}`);
      if (expect.members && members !== expect.members.join(',')) throw new Error(`${this.runbook} × ${fault}: members ${members}, expected ${expect.members.join(',')}`);
      for (const n of expect.leftoverOn ?? []) if (!leftovers.includes(n)) throw new Error(`${this.runbook} × ${fault}: no leftover recorded on ${n} (${JSON.stringify(p?.leftovers)})`);
      ok = true;
    } finally {
      this.rows.push({ runbook: this.runbook, fault, end: outcome ? `${end}: ${describeFailure(this.runbook, outcome)[0].replace(/^[^:]*: /, '').replace(/^pre-flight refused: /, '').slice(0, 80)}` : end, seconds, members, leftovers: [...new Set(leftovers)].join(','), ok });
    }
  }
}

/** completed / refused (pre-flight) / undone (before the point of no return) / safe point / failed before any change. */
export function classify(e: unknown): EndState {
  if (!e) return 'completed';
  const end = failureEnd(e);
  return end === 'failed' ? 'failed before any change' : end;
}
