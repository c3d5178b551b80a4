import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { verifyClusterChain } from '../../audit/clusterChain';
import { recordPaths, verifyRecordFile, writeRecord } from '../../audit/store';

// Insider finding 5: editing or truncating one record was caught, deleting a whole record was
// not. Records of a cluster now form one chain across runs, up to a signed head.
describe('the chain of a cluster\'s audit records', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const events = (run: string, status = 'completed') => [{ type: 'run', runbook: 'backupCluster', runId: run }, { type: 'outcome', status }];
  /** An audit dir with `n` records of cluster lab, r1..rn in order, each ending with `status`. */
  const withRecords = async (n: number, status = 'completed') => {
    const dir = mkdtempSync(join(tmpdir(), 'chain-'));
    for (let i = 1; i <= n; i++) await writeRecord(dir, privateKey, 'lab', 'etcd-runbooks-lab', `r${i}`, events(`r${i}`, status));
    return { dir, cdir: join(dir, 'records', 'lab'), file: (i: number) => recordPaths(dir, 'lab', 'etcd-runbooks-lab', `r${i}`) };
  };
  const check = (cdir: string) => verifyClusterChain(cdir, [pub], verifyRecordFile);

  test('records name their place and predecessor; the whole chain verifies', async () => {
    const { cdir, file } = await withRecords(3);
    expect(check(cdir)).toEqual({ ok: true, records: 3, unchained: [], problems: [] });
    const second = readFileSync(file(2).jsonl, 'utf8').split('\n')[1];
    expect(JSON.parse(second)).toMatchObject({ type: 'chain', cluster: 'lab', clusterSeq: 2, prevRecord: { file: 'etcd-runbooks-lab_r1.jsonl', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  test('a deleted record in the middle is reported', async () => {
    const { cdir, file } = await withRecords(3);
    for (const f of Object.values(file(2))) rmSync(f);
    expect(check(cdir).problems).toEqual(['record 2 of the chain is missing (deleted?)']);
  });

  test('the newest record deleted: the signed head no longer matches', async () => {
    const { cdir, file } = await withRecords(3);
    for (const f of Object.values(file(3))) rmSync(f);
    expect(check(cdir).problems).toEqual(['HEAD.json names record 3 but the newest record here is 2 (newest records deleted?)']);
  });

  test('every record and the head deleted: the head copied off the host says so', async () => {
    const { dir, cdir } = await withRecords(2);
    const offHost = JSON.parse(readFileSync(join(cdir, 'HEAD.json'), 'utf8')).head;
    rmSync(join(dir, 'records'), { recursive: true });
    expect(verifyClusterChain(cdir, [pub], verifyRecordFile, offHost).problems).toEqual([expect.stringMatching(/off-host head names record 2 .*records deleted/)]);
  });

  test('a record replaced by another validly signed one breaks its successor\'s link', async () => {
    const { dir, cdir, file } = await withRecords(3);
    // Another chain's record 2 (a run that failed), signed with the same key, put in place of this one's.
    const other = await withRecords(2, 'failed');
    copyFileSync(other.file(2).jsonl, file(2).jsonl);
    copyFileSync(other.file(2).sig, file(2).sig);
    expect(check(cdir).problems).toContain('etcd-runbooks-lab_r3.jsonl: its predecessor is not etcd-runbooks-lab_r2.jsonl as it stands (replaced or edited)');
    expect(readdirSync(dir)).toEqual(['records']);
  });

  test('an edited head is refused; a crash between a record and its head is finished by the next write', async () => {
    const { dir, cdir } = await withRecords(2);
    const headFile = join(cdir, 'HEAD.json');
    const head = JSON.parse(readFileSync(headFile, 'utf8'));
    writeFileSync(headFile, JSON.stringify({ ...head, head: { ...head.head, seq: 1 } }));
    expect(check(cdir).problems).toContain('HEAD.json: signature does not verify with the key(s) given');
    writeFileSync(headFile, JSON.stringify(head));
    // A crash after record 3 was written but before the head moved: HEAD.next.json is left behind.
    writeFileSync(join(cdir, 'HEAD.next.json'), JSON.stringify({ seq: 3, file: 'etcd-runbooks-lab_r3.jsonl' }));
    await writeRecord(dir, privateKey, 'lab', 'etcd-runbooks-lab', 'r3', events('r3'));
    expect(check(cdir)).toMatchObject({ ok: true, records: 3 });
  });
});

// Two workers on one host sharing an audit dir write records of the same cluster at once.
test('records written at the same moment by two worker processes each get their own place', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'chain-'));
  const keyFile = join(dir, 'key.pem');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const script = `
    const { createPrivateKey } = require('node:crypto');
    const { readFileSync } = require('node:fs');
    const { writeRecord } = require(${JSON.stringify(join(__dirname, '..', '..', 'audit', 'store'))});
    const key = createPrivateKey(readFileSync(process.argv[1]));
    const who = process.argv[3];
    const startAt = Number(process.argv[4]);
    (async () => {
      while (Date.now() < startAt) await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < 40; i++) await writeRecord(process.argv[2], key, 'lab', 'etcd-runbooks-lab', who + i, [{ type: 'run', runId: who + i }, { type: 'outcome', status: 'completed' }]);
    })();`;
  const tsNode = require.resolve('ts-node/register/transpile-only');
  // Both start writing at the same moment, after ts-node has loaded in each.
  const startAt = String(Date.now() + 3000);
  const run = (who: string) => spawn(process.execPath, ['-r', tsNode, '-e', script, keyFile, dir, who, startAt], { stdio: 'inherit' });
  return Promise.all(['a', 'b'].map((who) => new Promise<number | null>((resolve) => run(who).on('exit', resolve)))).then((codes) => {
    expect(codes).toEqual([0, 0]);
    expect(verifyClusterChain(join(dir, 'records', 'lab'), [pub], verifyRecordFile)).toEqual({ ok: true, records: 80, unchained: [], problems: [] });
  });
}, 60_000);
