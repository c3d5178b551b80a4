import { join } from 'node:path';
import { pipeTable, readResults } from './pipeTable';

/** One runbook run on one etcd version in test/e2e/versions.test.ts. */
export interface VersionRow { runbook: string; version: string; ok: boolean; seconds: number }

/** runbook x version -> `pass 12.3 s` / `FAIL 40.0 s`, one column per version, in the order seen. */
export function formatVersionTable(rows: VersionRow[]): string {
  const versions = [...new Set(rows.map((r) => r.version))].sort();
  const runbooks = [...new Set(rows.map((r) => r.runbook))];
  const cell = (rb: string, v: string) => {
    const r = rows.find((x) => x.runbook === rb && x.version === v);
    return r ? `${r.ok ? 'pass' : 'FAIL'} ${r.seconds.toFixed(1)} s` : '-';
  };
  return pipeTable(['runbook', ...versions.map((v) => `etcd ${v}`)], runbooks.map((rb) => [rb, ...versions.map((v) => cell(rb, v))]));
}

if (require.main === module) {
  const dir = process.argv[2] ?? join(__dirname, '..', '..', '.state', 'version-matrix');
  const rows = readResults<VersionRow>(dir);
  if (rows.length) console.log(`version matrix (runbook x etcd version -> result, seconds):\n${formatVersionTable(rows)}`);
}
