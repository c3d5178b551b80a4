import { BackupInputSchema, type BackupInput } from '../domain/inputs';
import type { BackupInfo } from '../activities';
import { long } from './proxies';
import { stamp, startRunbook } from './runbook';

/**
 * Backup: snapshot on the leader, verified, kept as `<cluster>-<member>-rev<revision>-<time>.db` in
 * the inventory's backup dir on the leader's node; only the newest `keep` are kept.
 * Source: reference 000 §4.
 */
export async function backupCluster(raw: BackupInput): Promise<BackupInfo> {
  const { input, base, tracker } = startRunbook('backupCluster', BackupInputSchema, raw);
  tracker.setSteps([{ id: 'backup', title: `snapshot on the leader, verify, keep the newest ${input.keep}`, status: 'pending' }]);
  tracker.progress.outcome = 'running';
  const r = await tracker.run('backup', async () => (await long.takeBackup({ ...base, stamp: stamp(new Date()), keep: input.keep })).result,
    (b) => `${b.node}:${b.path} rev ${b.revision}, ${b.totalKeys} keys${b.pruned.length ? `; removed ${b.pruned.length} old` : ''}`);
  tracker.progress.outcome = 'completed';
  return r;
}
