/**
 * The audit record of one command run on a node: enough to tell from the workflow history alone
 * what was done where. argv holds no secrets (only file paths to keys, never key material);
 * stdin content is not recorded, only its size. Output excerpts are kept only for commands that
 * failed (non-zero exit or not run to the end): a successful command's output may be file content.
 */
export interface CommandRecord {
  node: string;
  argv: string[];
  exitCode: number | null;
  /** Failures only: up to EXCERPT_CHARS of the start and end of stdout/stderr; '' otherwise. */
  stdout: string;
  stderr: string;
  stdinBytes?: number;
  /** ISO-8601 start time on the worker host. */
  startedAt: string;
  durationMs: number;
  /** Set when the command did not run to its end (timeout, connection lost). */
  error?: string;
}

/**
 * What every activity returns: its result plus the last MAX_RECORDED commands it ran, in order,
 * and how many it ran in all (a long wait polls hundreds of times; history must stay small).
 */
export interface Step<T> {
  result: T;
  commands: CommandRecord[];
  /** Commands run in all; `commands` holds the last MAX_RECORDED of them. */
  commandCount: number;
  /** Commands the worker could not write to its journal (audit/journal.ts), with why; the audit record says so. */
  journalFailures?: { count: number; first: string };
}

export const EXCERPT_CHARS = 1500;
/** Commands kept per activity attempt: about 20 × 0.5 KB, far below Temporal's 2 MB payload limit. */
export const MAX_RECORDED = 20;

/** Head and tail of long output, with the number of characters left out in between. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n…[${text.length - 2 * half} chars omitted]…\n${text.slice(-half)}`;
}

/** The bounded list of commands an activity attempt ran: the last `max` kept, all counted. */
export class CommandLog {
  private readonly kept: CommandRecord[] = [];
  count = 0;

  constructor(private readonly max = MAX_RECORDED) {}

  push(r: CommandRecord): void {
    this.count++;
    this.kept.push(r);
    if (this.kept.length > this.max) this.kept.shift();
  }

  get records(): CommandRecord[] {
    return [...this.kept];
  }
}
