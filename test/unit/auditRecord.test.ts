import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { chainEvents, verifyChain } from '../../audit/chain';
import { auditEvents, requesterOf } from '../../audit/record';
import { renderMarkdown } from '../../audit/render';
import { recordPaths, verifyRecordFile, writeRecord } from '../../audit/store';

const payloads = (v: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(v)] });
const at = (iso: string) => ({ seconds: Math.floor(Date.parse(iso) / 1000), nanos: 0 });
const cmd = (argv: string[], exitCode: number, stderr = '') => ({ node: 'node1', argv, exitCode, stdout: '', stderr, startedAt: '2026-11-22T10:00:01.000Z', durationMs: 40 });

/** A closed backup run's history: started, one activity failed once then completed, an approval, completed. */
const history = [
  { eventId: 1, eventTime: at('2026-11-22T10:00:00Z'), workflowExecutionStartedEventAttributes: { workflowType: { name: 'backupCluster' }, taskQueue: { name: 'q' }, identity: '4242@head', input: payloads({ cluster: 'lab', keep: 3 }) } },
  { eventId: 5, activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'takeBackup' }, input: payloads({ cluster: 'lab' }) } },
  { eventId: 6, activityTaskStartedEventAttributes: { scheduledEventId: 5, attempt: 2 } },
  { eventId: 7, activityTaskCompletedEventAttributes: { scheduledEventId: 5, startedEventId: 6, result: payloads({ result: { path: '/b/lab.db', sizeBytes: 1024, sha256: 'ab', revision: 9 }, commands: [cmd(['etcdctl', 'snapshot', 'save'], 0)], commandCount: 1 }) } },
  { eventId: 8, workflowExecutionUpdateCompletedEventAttributes: { outcome: { success: payloads({ step: 'remove:node3', question: 'remove node3', by: 'alice', at: '2026-11-22T10:00:02Z', upFront: false }) } } },
  { eventId: 9, eventTime: at('2026-11-22T10:00:03Z'), workflowExecutionCompletedEventAttributes: { result: payloads({ path: '/b/lab.db', approvals: [] }) } },
];

const journal = [
  { ...cmd(['etcdctl', 'snapshot', 'save'], 1, 'context deadline exceeded'), activityId: '1', activityType: 'takeBackup', attempt: 1 },
  { ...cmd(['etcdctl', 'snapshot', 'save'], 0), activityId: '1', activityType: 'takeBackup', attempt: 2 },
];

describe('audit record', () => {
  it('holds the request, every attempt\'s commands from the journal, the approval, the evidence and the outcome, in order', () => {
    const ev = auditEvents({ workflowId: 'etcd-runbooks-lab', runId: 'r1', events: history as never, journal });
    expect(ev.map((e) => e.type)).toEqual(['run', 'plan', 'command', 'command', 'approval', 'evidence', 'outcome']);
    expect(ev[0]).toMatchObject({ runbook: 'backupCluster', input: { cluster: 'lab', keep: 3 }, requester: { identity: '4242@head' }, startedAt: '2026-11-22T10:00:00.000Z' });
    expect(ev.filter((e) => e.type === 'command').map((e) => [e.attempt, e.exitCode, e.source])).toEqual([[1, 1, 'journal'], [2, 0, 'journal']]);
    expect(ev[2].output).toBe('context deadline exceeded');
    expect(ev[4]).toMatchObject({ step: 'remove:node3', by: 'alice' });
    expect(ev[5]).toMatchObject({ step: 'takeBackup', result: { sha256: 'ab', revision: 9 } });
    expect(ev[6]).toMatchObject({ status: 'completed', closedAt: '2026-11-22T10:00:03.000Z' });
  });

  it('takes the requester from the authenticated identity in the input, and records rejections and cancel requests with who and why', () => {
    const requester = { principal: 'alice', method: 'oidc', channel: 'api' };
    const events = [
      { eventId: 1, eventTime: at('2026-11-22T10:00:00Z'), workflowExecutionStartedEventAttributes: { workflowType: { name: 'removeMember' }, taskQueue: { name: 'q' }, identity: 'etcd-runbooks-api', input: payloads({ cluster: 'lab', node: 'node3', requester }) } },
      { eventId: 4, workflowExecutionUpdateCompletedEventAttributes: { outcome: { success: payloads({ step: 'remove:node3', question: 'remove node3', by: { principal: 'bob', method: 'token', channel: 'slack' }, reason: 'change window closed', at: '2026-11-22T10:00:02Z' }) } } },
      { eventId: 5, eventTime: at('2026-11-22T10:00:04Z'), workflowExecutionCancelRequestedEventAttributes: { identity: 'api:alice', cause: 'wrong cluster' } },
      { eventId: 6, eventTime: at('2026-11-22T10:00:05Z'), workflowExecutionFailedEventAttributes: { failure: { message: 'stopped at a safe point: step remove:node3 was rejected by bob (slack): change window closed' } } },
    ];
    const ev = auditEvents({ workflowId: 'w', runId: 'r', events: events as never });
    expect(ev[0]).toMatchObject({ requester: { principal: 'alice', method: 'oidc', channel: 'api', identity: 'etcd-runbooks-api' } });
    expect(ev.filter((e) => e.type === 'rejection')).toEqual([{ type: 'rejection', step: 'remove:node3', question: 'remove node3', by: { principal: 'bob', method: 'token', channel: 'slack' }, reason: 'change window closed', at: '2026-11-22T10:00:02Z' }]);
    expect(ev.filter((e) => e.type === 'cancel-requested')).toEqual([{ type: 'cancel-requested', by: 'api:alice', reason: 'wrong cluster', at: '2026-11-22T10:00:04.000Z' }]);
    const md = renderMarkdown(ev.map((e, i) => ({ ...e, seq: i + 1, prev: '' })));
    expect(md).toContain('| requested by | alice (api, oidc) |');
    expect(md).toContain('| rejected | remove:node3 | remove node3 | bob | 2026-11-22T10:00:02Z | change window closed |');
    expect(md).toContain('| cancel requested |  |  | api:alice | 2026-11-22T10:00:04.000Z | wrong cluster |');
  });

  it('tells the CLI\'s OS user from other Temporal clients', () => {
    expect(requesterOf('cli:alice@head')).toEqual({ principal: 'alice@head', channel: 'cli', identity: 'cli:alice@head' });
    expect(requesterOf('4242@head')).toMatchObject({ principal: '4242@head', channel: 'temporal-client' });
  });

  // Insider finding 5: a failed journal write was logged and swallowed; the record looked complete.
  it('says which step\'s commands the journal lost, and why', () => {
    const lossy = history.map((e) => (e.activityTaskCompletedEventAttributes
      ? { ...e, activityTaskCompletedEventAttributes: { ...e.activityTaskCompletedEventAttributes, result: payloads({ result: { path: '/b/lab.db' }, commands: [], commandCount: 2, journalFailures: { count: 2, first: 'ENOSPC: no space left on device' } }) } }
      : e));
    const ev = auditEvents({ workflowId: 'w', runId: 'r', events: lossy as never, journal });
    expect(ev.filter((e) => e.type === 'journal-failure')).toEqual([{ type: 'journal-failure', step: 'takeBackup', node: '-', count: 2, first: 'ENOSPC: no space left on device' }]);
  });

  it('falls back to the history\'s last attempt when no journal exists, and says so', () => {
    const ev = auditEvents({ workflowId: 'w', runId: 'r', events: history as never });
    const commands = ev.filter((e) => e.type === 'command');
    expect(commands.map((e) => [e.attempt, e.source])).toEqual([[2, 'history']]);
    expect(ev[1]).toMatchObject({ type: 'plan', steps: [] });
  });

  it('a chain breaks at the line after an edited one, and names it', () => {
    const text = chainEvents([{ type: 'run', a: 1 }, { type: 'command', b: 2 }, { type: 'outcome', c: 3 }]);
    expect(verifyChain(text).ok).toBe(true);
    const lines = text.split('\n');
    lines[1] = lines[1].replace('"b":2', '"b":3');
    expect(verifyChain(lines.join('\n'))).toMatchObject({ ok: false, line: 3 });
    const dropped = text.split('\n');
    dropped.splice(1, 1);
    expect(verifyChain(dropped.join('\n'))).toMatchObject({ ok: false, line: 2 });
  });

  it('a signed record verifies; an edited last line, a truncation and another key are caught', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const ev = auditEvents({ workflowId: 'etcd-runbooks-lab', runId: 'r1', events: history as never, journal });
    const { path, written } = await writeRecord(dir, privateKey, 'lab', 'etcd-runbooks-lab', 'r1', ev);
    expect(written).toBe(true);
    expect((await writeRecord(dir, privateKey, 'lab', 'etcd-runbooks-lab', 'r1', ev)).written).toBe(false);
    expect(verifyRecordFile(path, pub)).toMatchObject({ ok: true });
    expect(readFileSync(recordPaths(dir, 'lab', 'etcd-runbooks-lab', 'r1').md, 'utf8')).toContain('| remove:node3 | remove node3 | alice |');

    const original = readFileSync(path, 'utf8');
    writeFileSync(path, original.replace('"status":"completed"', '"status":"failed"'));
    expect(verifyRecordFile(path, pub)).toMatchObject({ ok: false, problem: expect.stringContaining('signature') });
    writeFileSync(path, original.split('\n').slice(0, -2).join('\n') + '\n');
    expect(verifyRecordFile(path, pub)).toMatchObject({ ok: false, problem: expect.stringContaining('signature') });
    writeFileSync(path, original);
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(verifyRecordFile(path, other)).toMatchObject({ ok: false, problem: expect.stringContaining('not by the key given') });
  });

  it('renders commands without etcdctl\'s constant TLS flags, and failures with their output', () => {
    const text = chainEvents(auditEvents({ workflowId: 'w', runId: 'r', events: history as never, journal }));
    const check = verifyChain(text);
    if (!check.ok) throw new Error('chain');
    const md = renderMarkdown(check.events, { keyId: 'k1' });
    expect(md).toContain('# Audit record: backupCluster on lab');
    expect(md).toMatch(/\| takeBackup \| 1 \| node1 \| etcdctl snapshot save \| 1 \| 40 \| context deadline exceeded \|/);
    expect(md).toContain('signed with key k1');
  });
});
