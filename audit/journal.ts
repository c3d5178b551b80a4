import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathSegment } from './paths';
import type { CommandRecord } from '../activities/audit';

/** One command as the journal keeps it: the record, and which attempt of which activity ran it. */
export interface JournalEntry extends CommandRecord {
  activityId: string;
  activityType: string;
  /** Temporal's attempt number, from 1. */
  attempt: number;
  /** The run, so a record can be written from the journal alone when its history is gone (since 0.6). */
  workflowId?: string;
  runId?: string;
  workflowType?: string;
  cluster?: string;
  /** The worker's task queue: a worker writes journal-only records for its own runs alone. */
  taskQueue?: string;
}

/** Which activity attempt is running: from the activity's Context (`info`) and its input's cluster. */
export interface AttemptInfo { workflowId: string; runId: string; activityId: string; activityType: string; attempt: number; workflowType?: string; cluster?: string; taskQueue?: string }

/**
 * The worker host's journal of every command every activity attempt ran, one JSON line per command,
 * a file per run: `<dir>/journal/<workflowId>/<runId>.jsonl`. A Temporal history keeps only the
 * last attempt's commands; the audit record (record.ts) takes them from here, failed attempts
 * included. Appends are synchronous (one small write per command, after it ran).
 */
export class CommandJournal {
  constructor(readonly dir: string) {}

  private file(workflowId: string, runId: string): string {
    return join(this.dir, 'journal', pathSegment(workflowId), `${pathSegment(runId)}.jsonl`);
  }

  /** Appends one command of the attempt `at`. */
  append(at: AttemptInfo, record: CommandRecord): void {
    const f = this.file(at.workflowId, at.runId);
    mkdirSync(join(f, '..'), { recursive: true, mode: 0o700 });
    const entry: JournalEntry = {
      ...record, activityId: at.activityId, activityType: at.activityType, attempt: at.attempt,
      workflowId: at.workflowId, runId: at.runId, ...(at.workflowType ? { workflowType: at.workflowType } : {}), ...(at.cluster ? { cluster: at.cluster } : {}),
      ...(at.taskQueue ? { taskQueue: at.taskQueue } : {}),
    };
    appendFileSync(f, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  /**
   * The runs this host journaled whose journal was last written before `before` (ms), as file
   * paths; the sweep looks at them for runs whose history is gone before their record was written.
   */
  quietRuns(before: number): string[] {
    const root = join(this.dir, 'journal');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((wf) => readdirSync(join(root, wf)).filter((f) => f.endsWith('.jsonl')).map((f) => join(root, wf, f)))
      .filter((f) => statSync(f).mtimeMs < before);
  }

  /** The entries of one journal file (see read). */
  readFile(f: string): JournalEntry[] {
    return readFileSync(f, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
      try { return [JSON.parse(l) as JournalEntry]; } catch { return []; }
    });
  }

  /** The run's commands in the order they were journaled; undefined when this host journaled none. */
  read(workflowId: string, runId: string): JournalEntry[] | undefined {
    const f = this.file(workflowId, runId);
    if (!existsSync(f)) return undefined;
    // A power cut can leave a last line half written: it is skipped.
    return readFileSync(f, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
      try { return [JSON.parse(l) as JournalEntry]; } catch { return []; }
    });
  }
}
