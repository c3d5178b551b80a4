import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Markdown pipe table (header, separator, rows), columns padded to their widest cell. */
export function pipeTable(head: string[], cells: string[][]): string {
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(width[i])).join(' | ')} |`;
  return [line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

/**
 * The JSON files of a results dir (`.state/<table>/`), parsed, in file-name order; none when the
 * dir does not exist (those tests did not run). A file holding an array contributes its items.
 */
export function readResults<T>(dir: string): T[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return files.flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T | T[]);
}
