import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathSegment } from './paths';
import type { CommandRecord } from '../activities/audit';

/** One command as the journal keeps it: the record, and which attempt of which activity ran it. */
export interface JournalEntry extends CommandRecord {
  activityId: string;
  activityType: string;
  /** Temporal's attempt number, from 1. */
  attempt: number;
}

/** Which activity attempt is running: from the activity's Context (`info`). */
export interface AttemptInfo { workflowId: string; runId: string; activityId: string; activityType: string; attempt: number }

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
    const entry: JournalEntry = { ...record, activityId: at.activityId, activityType: at.activityType, attempt: at.attempt };
    appendFileSync(f, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
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
