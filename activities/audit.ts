/**
 * The audit record of one command run on a node: enough to tell from the workflow history alone
 * what was done where. argv holds no secrets (only file paths to keys, never key material);
 * stdin content is not recorded, only its size.
 */
export interface CommandRecord {
  node: string;
  argv: string[];
  exitCode: number | null;
  /** Up to EXCERPT_CHARS of the start and end of stdout/stderr. */
  stdout: string;
  stderr: string;
  stdinBytes?: number;
  /** ISO-8601 start time on the worker host. */
  startedAt: string;
  durationMs: number;
  /** Set when the command did not run to its end (timeout, connection lost). */
  error?: string;
}

/** What every activity returns: its result plus the commands it ran, in order. */
export interface Step<T> {
  result: T;
  commands: CommandRecord[];
}

export const EXCERPT_CHARS = 1500;

/** Head and tail of long output, with the number of characters left out in between. */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n…[${text.length - 2 * half} chars omitted]…\n${text.slice(-half)}`;
}
