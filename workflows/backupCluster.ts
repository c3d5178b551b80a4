import { BackupInputSchema, type BackupInput } from '../domain/inputs';
import type { BackupInfo, OffNodeCopy } from '../activities';
import { long } from './proxies';
import { stamp, startRunbook } from './runbook';

/**
 * Backup: snapshot on the leader, verified, kept as `<cluster>-<member>-rev<revision>-<time>.db` in
 * the inventory's backup dir on the leader's node; only the newest `keep` are kept. Then, when the
 * inventory names a backup host, the file is streamed there, SHA-256 checked, with that host's
 * retention (reference 002: copies off the etcd hosts). Source: reference 000 §4.
 */
export async function backupCluster(raw: BackupInput): Promise<BackupInfo & { offNode?: OffNodeCopy }> {
  const { input, base, tracker } = startRunbook('backupCluster', BackupInputSchema, raw);
  tracker.setSteps([
    { id: 'backup', title: `snapshot on the leader, verify, keep the newest ${input.keep}`, status: 'pending' },
    { id: 'copy-off-node', title: 'copy it to the backup host (if the inventory names one), SHA-256 checked', status: 'pending' },
  ]);
  tracker.progress.outcome = 'running';
  // A backup's file is found again by its stamp (retries, resumed runs): to the second, two backups
  // started within one second shared one file, the second run reporting the first one's snapshot.
  const r = await tracker.run('backup', async () => (await long.takeBackup({ ...base, stamp: stamp(new Date(), true), keep: input.keep })).result,
    (b) => `${b.node}:${b.path} rev ${b.revision}, ${b.totalKeys} keys${b.pruned.length ? `; removed ${b.pruned.length} old` : ''}`);
  const copy = await tracker.run('copy-off-node', async () => (await long.copyBackupOffNode({ ...base, node: r.node, path: r.path, sizeBytes: r.sizeBytes })).result,
    (c) => (c.configured ? `${c.host}:${c.path} (${c.copiedBytes ? `${c.copiedBytes} bytes copied` : 'already there'}, sha256 ${c.sha256?.slice(0, 12)}…)${c.pruned?.length ? `; removed ${c.pruned.length} old` : ''}` : 'no backup host in the inventory'));
  tracker.progress.outcome = 'completed';
  return { ...r, offNode: copy };
}
