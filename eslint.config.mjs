// Lint rules that guard the architecture:
// - workflows/ is deterministic orchestration: no Node built-ins, no activity implementations
//   (type-only imports of activities are allowed), nothing that does I/O.
// - domain/ is pure logic shared by workflows and activities: no Node built-ins either.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const ioPackages = ['ssh2', 'yaml', 'lossless-json', '@temporalio/worker', '@temporalio/client', '@temporalio/activity', 'commander', 'cli-table3'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.state/**', '.tools/**', '.lab-cache/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioPackages].map((name) => ({ name, message: 'workflows/ must stay deterministic: do I/O in an activity.' })),
        patterns: [
          { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'import activity types only (import type) and call them through proxyActivities.' },
          { group: ['**/inventory/load*', '**/client/**', '**/worker/**'], message: 'workflows/ must not load files or reach the client/worker.' },
        ],
      }],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, ...ioPackages].map((name) => ({ name, message: 'domain/ is pure logic shared with workflows: no I/O.' })),
        patterns: [{ group: ['**/activities/**', '**/client/**', '**/worker/**', '**/workflows/**', '**/inventory/**'], message: 'domain/ depends on nothing else in the project.' }],
      }],
    },
  },
  {
    // Tests build deliberately malformed documents.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
);
