import { execFileSync } from 'node:child_process';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LIST_BACKUPS_SH } from '../../activities/node/backupFiles';

// Insider finding 6: `<cluster>-*` matched `<cluster>-eu`'s backups, so retention and drills of
// `prod` crossed into `prod-eu`. The list the node runs is shell: run it here on real files.
test('a cluster\'s backups are listed by its member names, newest first, and never another cluster\'s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backups-'));
  const files = ['prod-node1-rev5-20261203T100000000Z.db', 'prod-node2-rev7-20261203T120000000Z.db', 'prod-eu-node1-rev9-20261203T130000000Z.db', 'prod-node1-revx-20261203T090000000Z.db'];
  files.forEach((f, i) => {
    writeFileSync(join(dir, f), '');
    utimesSync(join(dir, f), 1000 + i, 1000 + i);
  });
  const list = (cluster: string, ...members: string[]) => execFileSync('sh', ['-c', LIST_BACKUPS_SH, 'sh', dir, cluster, ...members], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map((p) => p.slice(dir.length + 1));
  expect(list('prod', 'node1', 'node2', 'node3')).toEqual(['prod-node2-rev7-20261203T120000000Z.db', 'prod-node1-rev5-20261203T100000000Z.db']);
  expect(list('prod-eu', 'node1')).toEqual(['prod-eu-node1-rev9-20261203T130000000Z.db']);
  expect(list('staging', 'node1')).toEqual([]);
});
