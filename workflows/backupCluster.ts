import { BackupInputSchema, type BackupInput } from '../domain/inputs';
import type { BackupInfo, OffNodeCopy } from '../activities';
import { long, reads } from './proxies';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { stamp, startRunbook } from './runbook';
import { votingMembers } from './clusterPhases';

/**
 * Backup: snapshot on the leader, verified, kept as `<cluster>-<member>-rev<revision>-<time>.db` in
 * the inventory's backup dir on the leader's node; only the newest `keep` are kept. Then, when the
 * inventory names a backup host, the file is streamed there, SHA-256 checked, with that host's
 * retention (reference 002: copies off the etcd hosts). Source: reference 000 §4.
 */
export async function backupCluster(raw: BackupInput): Promise<(BackupInfo & { offNode?: OffNodeCopy }) | DryRunResult> {
  const { input, base, tracker } = startRunbook('backupCluster', BackupInputSchema, raw);
  let backup: BackupInfo | undefined;
  let offNode: OffNodeCopy | undefined;
  const phases: Phase[] = [
    {
      id: 'backup', title: `snapshot on the leader, verify, keep the newest ${input.keep}`, source: 'reference 000 §4; etcd docs "Disaster recovery: snapshotting the keyspace"',
      run: async () => {
        // A backup's file is found again by its stamp (retries, resumed runs), to the millisecond.
        const b = (await long.takeBackup({ ...base, stamp: stamp(new Date(), true), keep: input.keep })).result;
        backup = b;
        return `${b.node}:${b.path} rev ${b.revision}, ${b.totalKeys} keys${b.pruned.length ? `; removed ${b.pruned.length} old` : ''}`;
      },
    },
    {
      id: 'copy-off-node', title: 'copy it to the backup host (if the inventory names one), SHA-256 checked', source: 'reference 002 (copy backups off the etcd hosts)',
      run: async () => {
        const c = (await long.copyBackupOffNode({ ...base, node: backup!.node, path: backup!.path, sizeBytes: backup!.sizeBytes })).result;
        offNode = c;
        return c.configured ? `${c.host}:${c.path} (${c.copiedBytes ? `${c.copiedBytes} bytes copied` : 'already there'}, sha256 ${c.sha256?.slice(0, 12)}…)${c.pruned?.length ? `; removed ${c.pruned.length} old` : ''}` : 'no backup host in the inventory';
      },
    },
  ];
  tracker.setSteps(planOf(phases));
  if (input.dryRun) return planOnly(tracker, phases, votingMembers((await reads.inspectCluster(base)).result.members));
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  return { ...backup!, offNode: offNode! };
}
