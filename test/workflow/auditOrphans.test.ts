import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { CommandJournal } from '../../audit/journal';
import { recordPaths } from '../../audit/store';
import { sweepClosedRuns } from '../../audit/writer';
import { temporalSettings } from '../../config/temporal';
import { removeMember } from '../../workflows';

jest.setTimeout(60_000);

// Insider finding 5: a run deleted from Temporal before the sweep saw it close never got a record.
// On the real Temporal server: one journaled run Temporal does not know, one it does.
test('a journaled run whose history is gone gets a record from the journal; a run Temporal knows, or another worker\'s, is left alone', async () => {
  const settings = temporalSettings();
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'orphans-'));
    const journal = new CommandJournal(dir);
    const taskQueue = `orphans-${Date.now()}`;
    const line = (workflowId: string, runId: string, queue: string) => JSON.stringify({
      node: 'node3', argv: ['etcdctl', 'member', 'remove', 'a3'], exitCode: 0, stdout: '', stderr: '', startedAt: '2026-12-03T10:00:00.000Z', durationMs: 30,
      activityId: '5', activityType: 'removeMember', attempt: 1, workflowId, runId, workflowType: 'removeMember', cluster: 'lab', taskQueue: queue,
    });
    const journalOf = (workflowId: string, runId: string, queue = taskQueue) => {
      const f = join(dir, 'journal', workflowId, `${runId}.jsonl`);
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, `${line(workflowId, runId, queue)}\n`);
      const old = (Date.now() - 20 * 60_000) / 1000;
      utimesSync(f, old, old);
    };
    const gone = { workflowId: `orphan-${Date.now()}`, runId: randomUUID() };
    journalOf(gone.workflowId, gone.runId);
    // Known to Temporal (started on a queue no worker polls, so it stays running).
    const alive = await client.workflow.start(removeMember, { taskQueue: `no-worker-${Date.now()}`, workflowId: `alive-${Date.now()}`, args: [{ cluster: 'lab', node: 'node3' }] });
    journalOf(alive.workflowId, alive.firstExecutionRunId);
    // Another worker's run, gone from this Temporal as well: not this worker's to record.
    journalOf(`other-${Date.now()}`, randomUUID(), 'another-queue');
    const { privateKey } = generateKeyPairSync('ed25519');
    const written = await sweepClosedRuns(client, { dir, taskQueue, key: privateKey, journal, intervalMs: 1000 });
    expect(written).toEqual([recordPaths(dir, 'lab', gone.workflowId, gone.runId).jsonl]);
    const events = readFileSync(written[0], 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(['run', 'chain', 'plan', 'command', 'outcome']);
    expect(events[3]).toMatchObject({ argv: ['etcdctl', 'member', 'remove', 'a3'], source: 'journal' });
    expect(events[4]).toMatchObject({ status: 'history-missing' });
    await alive.terminate('test done');
  } finally {
    await connection.close();
  }
});
