import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// docs/runbooks.md keeps the register of patches in force; every patched()/deprecatePatch() call in
// workflows/ must have its row, and every row its call.
const root = join(__dirname, '..', '..');

function patchIdsInCode(): string[] {
  const ids: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/\b(?:patched|deprecatePatch)\(\s*'([^']+)'/g)) ids.push(m[1]);
    }
  };
  walk(join(root, 'workflows'));
  return [...new Set(ids)].sort();
}

function patchIdsInRegister(): string[] {
  const doc = readFileSync(join(root, 'docs', 'runbooks.md'), 'utf8');
  const table = doc.slice(doc.indexOf('**Register of patches**'));
  const rows = table.split('\n').filter((l) => l.startsWith('| `'));
  return rows.map((l) => /^\| `([^`]+)`/.exec(l)![1]).sort();
}

test('every patch in workflows/ is in the register of docs/runbooks.md, and only those', () => {
  expect(patchIdsInCode()).toEqual(patchIdsInRegister());
  expect(readFileSync(join(root, 'docs', 'runbooks.md'), 'utf8')).toContain('**Register of patches**');
});

test('patch ids are literal strings, so the register can list them', () => {
  const src = readdirSync(join(root, 'workflows')).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(root, 'workflows', f), 'utf8')).join('\n');
  expect(src.match(/\bpatched\(\s*[^'\s]/g) ?? []).toEqual([]);
});
