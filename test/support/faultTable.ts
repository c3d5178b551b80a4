import { join } from 'node:path';
import { pipeTable, readResults } from './pipeTable';

/** One row of the fault matrix: how a runbook ended under one fault, and the cluster after. */
export interface MatrixRow { runbook: string; fault: string; end: string; seconds: number; members: string; leftovers: string; ok: boolean }

/** The matrix as a plain table: runbook, fault, end state, seconds, members at the end, leftovers. */
export function formatRows(rows: MatrixRow[]): string {
  const head = ['runbook', 'fault', 'end state', 's', 'members after', 'leftovers', 'ok'];
  return pipeTable(head, rows.map((r) => [r.runbook, r.fault, r.end, r.seconds.toFixed(1), r.members, r.leftovers || '-', r.ok ? 'yes' : 'NO']));
}

/** Every matrix file's rows from `dir` (written by test/support/faults.ts), printed as one table. */
if (require.main === module) {
  const dir = process.argv[2] ?? join(__dirname, '..', '..', '.state', 'fault-matrix');
  const rows = readResults<MatrixRow>(dir);
  if (rows.length) console.log(`fault matrix (runbook x fault -> end state, seconds):\n${formatRows(rows)}`);
}
