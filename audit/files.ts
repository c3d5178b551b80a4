import { renameSync, writeFileSync } from 'node:fs';

/** Writes `data` to a temporary file beside `path` and renames it into place: a power cut leaves the old file or the whole new one. */
export function writeAtomically(path: string, data: string, mode = 0o640): void {
  writeFileSync(`${path}.tmp`, data, { mode });
  renameSync(`${path}.tmp`, path);
}
