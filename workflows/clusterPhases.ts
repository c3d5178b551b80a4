import type { SnapshotInfo } from '../activities';
import type { Members, Phase } from './phases';
import { long, reads, type Base } from './proxies';

/**
 * `snapshot`: a snapshot on the leader, its integrity verified, kept under `label`. Nothing has
 * changed yet. `onDone` receives the snapshot. Source: reference 000 §4 (backup before any change);
 * etcd docs "Disaster recovery: snapshotting the keyspace".
 */
export function snapshotPhase(base: Base, label: string, onDone: (s: SnapshotInfo) => void): Phase {
  return {
    id: 'snapshot', title: 'snapshot on the leader, integrity verified', source: 'reference 000 §4; etcd docs "Disaster recovery" (https://etcd.io/docs/v3.5/op-guide/recovery/)',
    run: async () => {
      const s = (await long.takeSnapshot({ ...base, label })).result;
      onDone(s);
      return `${s.node}:${s.path} rev ${s.revision}, ${s.totalKeys} keys, ${s.sizeBytes} bytes, sha256 ok`;
    },
  };
}

/**
 * `verify`: every member voting and healthy, hashkv equal at one revision. The change is made by
 * then: a failure stops the run there (nothing is undone) for a person to look. `onDone` receives
 * the members and revision seen. Source: reference 000 §4 (status after a change); etcd docs
 * "Maintenance" (hashkv).
 */
export function verifyPhase(base: Base, title: string, onDone: (r: { members: { name: string; isLearner: boolean }[]; clusterId: string; revision: number }) => void): Phase {
  return {
    id: 'verify', title: `verify: ${title}`, source: 'reference 000 §4; etcdctl endpoint hashkv',
    pointOfNoReturn: 'started',
    safePoint: () => ({ where: 'the change is made; its final verification failed: check the cluster with `etcd-runbooks status`' }),
    run: async () => {
      const r = (await reads.verifyCluster(base)).result;
      onDone({ members: r.state.members, clusterId: r.state.clusterId, revision: r.revision });
      return `${r.state.members.length} members, hashkv ${r.hash} equal at revision ${r.revision}${r.differedAtCompacted ? ` (they differed at ${r.differedAtCompacted}, the compacted revision: etcd issues 14457, 18337)` : ''}`;
    },
  };
}

/** Voting members of a member list, and how many of them are healthy (the plan's starting point). */
export function votingMembers(members: readonly { isLearner: boolean; healthy?: boolean }[]): Members {
  const voters = members.filter((m) => !m.isLearner);
  return { voters: voters.length, serving: voters.filter((m) => m.healthy).length };
}
