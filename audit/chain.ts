import { createHash } from 'node:crypto';

/** `prev` of the first line: no line before it. */
export const GENESIS = '0'.repeat(64);

/** One line of an audit record: its position, the SHA-256 (hex) of the line before it, and the event. */
export type ChainedEvent = { seq: number; prev: string; type: string } & Record<string, unknown>;

/** SHA-256, hex, of one line's bytes (without its newline). */
export function lineHash(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/**
 * JSON Lines, one event per line, each carrying `seq` (from 1) and `prev`: the SHA-256 of the line
 * before it (GENESIS for the first). Editing, removing, inserting or reordering a line breaks the
 * chain at the next line; the detached signature (sign.ts) covers the last line, so truncation is
 * caught too. Every event has a string `type`. Ends with a newline.
 */
export function chainEvents(events: ReadonlyArray<{ type: string } & Record<string, unknown>>): string {
  let prev = GENESIS;
  const lines = events.map((e, i) => {
    const line = JSON.stringify({ seq: i + 1, prev, ...e });
    prev = lineHash(line);
    return line;
  });
  return lines.map((l) => `${l}\n`).join('');
}

/** What verifyChain found: the events in order, or the first line that breaks the chain and why. */
export type ChainCheck = { ok: true; events: ChainedEvent[] } | { ok: false; line: number; reason: string };

/** Checks a chainEvents text line by line: valid JSON, `seq` in order, `prev` = hash of the line before. */
export function verifyChain(text: string): ChainCheck {
  if (!text.endsWith('\n')) return { ok: false, line: text.split('\n').length, reason: 'the record does not end with a newline (truncated?)' };
  const lines = text.slice(0, -1).split('\n');
  const events: ChainedEvent[] = [];
  let prev = GENESIS;
  for (const [i, line] of lines.entries()) {
    let e: ChainedEvent;
    try {
      e = JSON.parse(line) as ChainedEvent;
    } catch {
      return { ok: false, line: i + 1, reason: 'not JSON' };
    }
    if (e.seq !== i + 1) return { ok: false, line: i + 1, reason: `seq ${String(e.seq)}, expected ${i + 1}` };
    if (e.prev !== prev) return { ok: false, line: i + 1, reason: 'prev does not match the hash of the line before: a line before it, or this one, was changed, removed or inserted' };
    if (typeof e.type !== 'string') return { ok: false, line: i + 1, reason: 'no event type' };
    events.push(e);
    prev = lineHash(line);
  }
  return { ok: true, events };
}
