import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { RunbookProgress } from '../domain/progress';
import { progressQuery } from '../workflows';
import type { CommandJournal } from './journal';
import { auditEvents } from './record';
import { pathSegment } from './paths';
import { recordExists, writeRecord } from './store';
import { publishHeads, type PublishHead } from './offHost';

/** Workflows that only read (status tables, a cluster's watch): no audit record. */
const READ_ONLY = new Set(['clusterStatus', 'clusterDoctor', 'watchCluster']);
/** A first sweep, with no watermark yet, looks back this far (ms). */
const FIRST_LOOKBACK_MS = 7 * 24 * 3600_000;
/** Each sweep looks this far behind its watermark (ms): visibility is eventually consistent. */
const OVERLAP_MS = 5 * 60_000;
const QUERY_TIMEOUT_MS = 15_000;

/** Where and how the worker writes audit records. */
export interface AuditWriterOptions {
  dir: string;
  taskQueue: string;
  key: KeyObject;
  journal: CommandJournal;
  /** Time between sweeps (ms). */
  intervalMs: number;
  /** True once the writer is stopping: a record not yet written is left to the next start. */
  stopping?: () => boolean;
  /** Journal files found to be another task queue's: not read again (kept by startAuditWriter across sweeps). */
  notOurs?: Set<string>;
  /** Where each cluster's signed chain head goes after it moves (audit/offHost.ts); none: it stays on this host. */
  publishHead?: PublishHead;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => { setTimeout(() => r(undefined), ms).unref(); })]);
}

/**
 * Writes the audit record of every run of this task queue once it has closed (completed, failed,
 * cancelled, terminated, timed out), from its history, its final progress and the worker's command
 * journal. A sweep lists closed runs through Temporal's visibility (CloseTime after the watermark
 * `<dir>/records/.watermark-<taskQueue>`, minus OVERLAP_MS), so a run that closed while this worker was down,
 * after a head-node power cut, gets its record at the next start. Returns the records written.
 */
export async function sweepClosedRuns(client: Client, o: AuditWriterOptions): Promise<string[]> {
  const markFile = join(o.dir, 'records', `.watermark-${pathSegment(o.taskQueue)}`);
  const mark = existsSync(markFile) ? Date.parse(readFileSync(markFile, 'utf8').trim()) : NaN;
  const since = new Date((Number.isNaN(mark) ? Date.now() - FIRST_LOOKBACK_MS : mark) - OVERLAP_MS).toISOString();
  let newest = Number.isNaN(mark) ? 0 : mark;
  const written: string[] = [];
  const query = `TaskQueue = "${o.taskQueue.replace(/["\\]/g, "\\$&")}" AND ExecutionStatus != "Running" AND CloseTime > "${since}"`;
  for await (const wf of client.workflow.list({ query })) {
    if (READ_ONLY.has(wf.type) || !wf.closeTime) continue;
    if (!recordExists(o.dir, wf.workflowId, wf.runId)) {
      const handle = client.workflow.getHandle(wf.workflowId, wf.runId);
      const events = (await handle.fetchHistory()).events ?? [];
      const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const cluster = (input && defaultPayloadConverter.fromPayload<{ cluster?: string }>(input as never)?.cluster) || 'unknown';
      const progress = await withTimeout(handle.query(progressQuery) as Promise<RunbookProgress>, QUERY_TIMEOUT_MS);
      // A worker shutting down cannot answer the query: leave the record, and the watermark, to the next start.
      if (o.stopping?.()) return written;
      const journal = o.journal.read(wf.workflowId, wf.runId);
      const r = await writeRecord(o.dir, o.key, cluster, wf.workflowId, wf.runId, auditEvents({ workflowId: wf.workflowId, runId: wf.runId, events, ...(progress ? { progress } : {}), ...(journal ? { journal } : {}) }));
      if (r.written) written.push(r.path);
    }
    newest = Math.max(newest, wf.closeTime.getTime());
  }
  if (newest) {
    mkdirSync(join(o.dir, 'records'), { recursive: true, mode: 0o750 });
    writeFileSync(markFile, `${new Date(newest).toISOString()}\n`);
  }
  written.push(...(await recordOrphans(client, o)));
  return written;
}

/** A journal quiet this long (ms) whose run Temporal no longer knows gets a record from the journal alone. */
const ORPHAN_QUIET_MS = 10 * 60_000;

/**
 * Runs of this task queue journaled on this host that have no record and that Temporal no longer knows (deleted before
 * the sweep saw them close: retention shorter than an outage, or an insider): a record from the
 * journal alone, outcome `history-missing`, so the cluster's chain shows the run instead of
 * nothing. Only journals quiet for ORPHAN_QUIET_MS are looked at. Returns the records written.
 */
async function recordOrphans(client: Client, o: AuditWriterOptions): Promise<string[]> {
  const out: string[] = [];
  for (const f of o.journal.quietRuns(Date.now() - ORPHAN_QUIET_MS)) {
    if (o.stopping?.()) break;
    // The file's path names the run: one with a record needs no read.
    const [wf, run] = [basename(dirname(f)), basename(f, '.jsonl')];
    if (o.notOurs?.has(f) || recordExists(o.dir, wf, run)) continue;
    const entries = o.journal.readFile(f);
    const first = entries.find((e) => e.workflowId && e.runId);
    // Another worker's runs (another task queue, perhaps another Temporal) are not this one's to judge.
    if (!first?.workflowId || !first.runId || first.taskQueue !== o.taskQueue) { o.notOurs?.add(f); continue; }
    if (recordExists(o.dir, first.workflowId, first.runId)) continue;
    const known = await client.workflow.getHandle(first.workflowId, first.runId).describe().then(() => true, (e) => !(e instanceof WorkflowNotFoundError));
    if (known) continue;
    const r = await writeRecord(o.dir, o.key, first.cluster ?? 'unknown', first.workflowId, first.runId, [
      { type: 'run', workflowId: first.workflowId, runId: first.runId, runbook: first.workflowType ?? '?', input: null, requester: null, startedAt: entries[0]?.startedAt ?? '',
        note: 'the run\'s history was gone from Temporal before its record was written: this record holds only what the worker journaled' },
      { type: 'plan', steps: [], note: 'no history' },
      ...auditEvents({ workflowId: first.workflowId, runId: first.runId, events: [], journal: entries }).filter((e) => e.type === 'command'),
      { type: 'outcome', status: 'history-missing', closedAt: '', detail: 'deleted from Temporal before the audit sweep saw it close' },
    ]);
    if (r.written) out.push(r.path);
  }
  return out;
}

/**
 * Runs sweepClosedRuns every `intervalMs` until stopped; a failed sweep (Temporal unreachable) is
 * logged and tried again at the next one. Returns stop(): it aborts the Temporal calls of a sweep in
 * progress (a progress query the stopping worker cannot answer, a call in retry) and waits until
 * the sweep has ended, so the caller may close the connection (a call left retrying on a closed
 * channel throws from its timer).
 */
export function startAuditWriter(client: Client, o: AuditWriterOptions, log: (line: string) => void = console.error): () => Promise<void> {
  let stopped = false;
  const abort = new AbortController();
  let current: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  const notOurs = new Set<string>();
  let lastPublishFailure = '';
  const tick = () => {
    if (stopped) return;
    current = client.withAbortSignal(abort.signal, () => sweepClosedRuns(client, { ...o, notOurs, stopping: () => stopped }))
      .then(async (w) => {
        failing = false;
        for (const p of w) log(`audit: wrote ${p}`);
        if (!o.publishHead || stopped) return;
        const heads = await publishHeads(o.dir, o.publishHead);
        for (const h of heads.stored) log(`audit: chain head ${h} copied off the host`);
        const failed = heads.failed.join('; ');
        if (failed && failed !== lastPublishFailure) log(`audit: chain head not copied off the host (retrying at each sweep): ${failed}`);
        lastPublishFailure = failed;
      })
      .catch((e: Error) => { if (!failing && !stopped) log(`audit: sweep failed, retrying every ${o.intervalMs / 1000} s: ${e.message}`); failing = true; })
      .finally(() => { if (!stopped) timer = setTimeout(tick, o.intervalMs); });
  };
  tick();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    abort.abort();
    await current;
  };
}
