import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * Where the compiled worker finds the workflow bundle `npm run build` made: `dist/workflow-bundle.js`.
 * Undefined when this code is not the compiled build (ts-node, jest): those bundle from source.
 */
export function prebuiltBundlePath(): string | undefined {
  return __filename.endsWith('.js') ? join(__dirname, '..', 'workflow-bundle.js') : undefined;
}

/**
 * Bundles the workflow code ahead of time (Temporal's bundleWorkflowCode, webpack), so a worker
 * starts without bundling (about 5 s saved per start and per restart after a crash). Run by
 * scripts/build.sh from the compiled tree: `node dist/worker/bundle.js`. Writes prebuiltBundlePath().
 */
export async function writeWorkflowBundle(): Promise<string> {
  const out = prebuiltBundlePath();
  if (!out) throw new Error('bundle: run the compiled build (node dist/worker/bundle.js), not the TypeScript source');
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  writeFileSync(out, code);
  return out;
}

if (require.main === module) {
  writeWorkflowBundle().then((p) => console.error(`bundle: ${p}`), (e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
