import type { Etcd3 } from 'etcd3';
import { onNode } from './lab';

/**
 * What a run that changes nothing must leave as it was: the members (IDs, names, learners) and
 * the revision, read from etcd; per node, etcd's unit state, the data dir and anything beside it
 * (aside and backup copies), the member configuration and the snapshots kept there.
 */
export async function clusterFingerprint(etcd: Etcd3, nodes: readonly string[]): Promise<Record<string, string>> {
  const members = (await etcd.cluster.memberList({ linearizable: true })).members ?? [];
  const status = await etcd.maintenance.status();
  const out: Record<string, string> = {
    members: members.map((m) => `${m.ID}:${m.name}:${m.isLearner ? 'learner' : 'voter'}`).sort().join(','),
    revision: String(status.header.revision),
  };
  for (const n of nodes) {
    out[n] = onNode(n, [
      'systemctl is-active etcd 2>/dev/null; systemctl is-enabled etcd 2>/dev/null',
      'ls -d /var/lib/etcd* 2>/dev/null',
      'md5sum /etc/default/etcd /etc/kubernetes/manifests/etcd.yaml 2>/dev/null',
      'ls -1 /var/backups/etcd-runbooks 2>/dev/null',
    ].join('; ') + '; true');
  }
  return out;
}
