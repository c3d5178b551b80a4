import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';

jest.setTimeout(5 * 60_000);

// Real histories recorded from lab runs (scripts/record-histories.sh) replayed against today's
// workflow code, without a server: a change that would break runs in flight fails here.
// Change workflows safely with patched() (docs/runbooks.md, "Changing a runbook while runs are in flight").
const DIR = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('every recorded runbook history replays without nondeterminism', async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  expect(files.length).toBeGreaterThanOrEqual(10);
  // The five runbooks of the references each have a recorded run of the current release.
  const types = new Set(files.map((f) => f.split('-')[0]));
  expect(['expandCluster', 'replaceMember', 'migrateMember', 'restoreCluster', 'recoverQuorum'].filter((t) => !types.has(t))).toEqual([]);
  // Each run replays under its own workflow id: the signed start decision names it (workflows/decisions.ts).
  const fileOf = new Map<string, string>();
  const histories = files.map((f) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(DIR, f), 'utf8')));
    const workflowId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId ?? f;
    fileOf.set(workflowId, f);
    return { workflowId, history };
  });
  const failures: string[] = [];
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows') }, histories)) {
    replayed++;
    if (r.error) failures.push(`${fileOf.get(r.workflowId) ?? r.workflowId}: ${r.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
});
