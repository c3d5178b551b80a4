import { generateKeyPairSync } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyClusterChain } from '../../audit/clusterChain';
import { offHostHead, publishHeads, type PublishHead } from '../../audit/offHost';
import { recordPaths, verifyRecordFile, writeRecord } from '../../audit/store';

// Insider finding 5: whoever can write the audit dir could delete the newest records and put back
// an older signed head (a copy they kept): the chain on the host then verifies. The head copied
// off the host after each record shows the deletion.
describe('the chain head copied off the host', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const record = (dir: string, i: number) => writeRecord(dir, privateKey, 'lab', 'etcd-runbooks-lab', `r${i}`, [{ type: 'run', runbook: 'backupCluster', runId: `r${i}` }, { type: 'outcome', status: 'completed' }]);
  /** A backup host's log as a file: what headCopier appends to over SSH. */
  const offHost = () => {
    const log = join(mkdtempSync(join(tmpdir(), 'vault-')), 'chain-heads-lab.jsonl');
    writeFileSync(log, '');
    const sent: number[] = [];
    const publish: PublishHead = async (cluster, line) => {
      expect(cluster).toBe('lab');
      appendFileSync(log, `${line}\n`);
      sent.push((JSON.parse(line) as { head: { seq: number } }).head.seq);
      return 'stored';
    };
    return { log, sent, publish };
  };

  test('each new head is sent once; a failed or impossible send is tried again at the next sweep', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const vault = offHost();
    await record(dir, 1);
    await record(dir, 2);
    expect(await publishHeads(dir, vault.publish)).toEqual({ stored: ['lab#2'], failed: [] });
    expect(await publishHeads(dir, vault.publish)).toEqual({ stored: [], failed: [] });
    await record(dir, 3);
    expect(await publishHeads(dir, async () => { throw new Error('vault: connection refused'); })).toEqual({ stored: [], failed: ['lab: vault: connection refused'] });
    expect(await publishHeads(dir, async () => 'no place')).toEqual({ stored: [], failed: [] });
    expect(await publishHeads(dir, vault.publish)).toEqual({ stored: ['lab#3'], failed: [] });
    expect(vault.sent).toEqual([2, 3]);
    expect(offHostHead(readFileSync(vault.log, 'utf8')).head).toMatchObject({ cluster: 'lab', seq: 3, file: 'etcd-runbooks-lab_r3.jsonl' });
  });

  test('the newest record deleted and an older signed head put back: the chain on the host verifies, the off-host head does not agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const cdir = join(dir, 'records', 'lab');
    const vault = offHost();
    await record(dir, 1);
    await record(dir, 2);
    const kept = join(dir, 'HEAD-2.json');
    copyFileSync(join(cdir, 'HEAD.json'), kept);
    await record(dir, 3);
    await publishHeads(dir, vault.publish);
    for (const f of Object.values(recordPaths(dir, 'lab', 'etcd-runbooks-lab', 'r3'))) rmSync(f, { force: true });
    copyFileSync(kept, join(cdir, 'HEAD.json'));
    expect(verifyClusterChain(cdir, [pub], verifyRecordFile)).toMatchObject({ ok: true });
    const head = offHostHead(readFileSync(vault.log, 'utf8')).head;
    expect(verifyClusterChain(cdir, [pub], verifyRecordFile, head).problems).toEqual([
      'the off-host head names record 3 (etcd-runbooks-lab_r3.jsonl), newer than any here: records deleted',
    ]);
  });

  test('a record replaced under the off-host head is reported; a torn last line of the log is skipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    const cdir = join(dir, 'records', 'lab');
    const vault = offHost();
    await record(dir, 1);
    await publishHeads(dir, vault.publish);
    appendFileSync(vault.log, '{"head":{"cluster":"lab","seq":9'); // a crash while appending
    const head = offHostHead(readFileSync(vault.log, 'utf8')).head;
    expect(head.seq).toBe(1);
    // Rewritten whole with the same name, after the off-host copy was taken.
    rmSync(join(cdir, 'HEAD.json'));
    rmSync(join(cdir, 'HEAD.published'));
    const { jsonl } = recordPaths(dir, 'lab', 'etcd-runbooks-lab', 'r1');
    for (const f of [jsonl, `${jsonl}.sig`]) rmSync(f);
    await writeRecord(dir, privateKey, 'lab', 'etcd-runbooks-lab', 'r1', [{ type: 'run', runbook: 'removeMember', runId: 'r1' }, { type: 'outcome', status: 'completed' }]);
    expect(verifyClusterChain(cdir, [pub], verifyRecordFile, head).problems).toEqual([
      'the off-host head names etcd-runbooks-lab_r1.jsonl as record 1, but here that place holds another version of it: records replaced',
    ]);
    expect(() => offHostHead('')).toThrow(/no chain head/);
  });
});
