import { canRemoveVoter, quorumSize } from './quorum';
import type { Member } from './members';

/** A member as pre-flight saw it: identity, role and whether its own endpoint answered. */
export interface ObservedMember extends Member {
  healthy: boolean;
  isLeader: boolean;
}

/** What removing a member would mean. `problems` empty means it is safe to remove now. */
export interface RemovalCheck {
  member?: ObservedMember;
  problems: string[];
}

/**
 * Checks that removing the member with `peerURL` keeps quorum, (unless `allowLeader`) that it is
 * not the leader, and (unless `allowTwoToOne`) that it does not take 2 voting members to 1. A
 * learner never affects quorum. An absent member needs no removal.
 * Source: reference 000 §2 and §7 (keep a majority healthy; move the leader before removing it),
 * §8.1 (from 2 members to 1 etcd "will get into trouble for not maintaining a majority": snapshot
 * and restore on one node instead); etcd FAQ (failure tolerance).
 */
export function checkRemoval(members: readonly ObservedMember[], peerURL: string, allowLeader = false, allowTwoToOne = false): RemovalCheck {
  const member = members.find((m) => m.peerURLs.includes(peerURL));
  if (!member) return { problems: [] };
  const problems: string[] = [];
  if (member.isLeader && !allowLeader) problems.push(`member ${member.name} is the leader; move leadership to another member first (etcd-runbooks move-leader)`);
  if (!member.isLearner) {
    const voters = members.filter((m) => !m.isLearner);
    const healthy = voters.filter((m) => m.healthy).length;
    if (!canRemoveVoter(voters.length, healthy, member.healthy)) {
      const remaining = healthy - (member.healthy ? 1 : 0);
      problems.push(voters.length <= 1
        ? `member ${member.name} is the last voting member; removing it would destroy the cluster (restore from a snapshot instead)`
        : `removing member ${member.name} would leave ${remaining} healthy of ${voters.length - 1} voting members, below the quorum of ${quorumSize(voters.length - 1)}`);
    } else if (voters.length === 2 && !allowTwoToOne) {
      problems.push(`removing member ${member.name} would take the cluster from 2 voting members to 1; while the removal is applied etcd needs both (reference 000 §8.1): take a snapshot and restore it on the other node instead (etcd-runbooks backup, then restore --members <it>), or pass --allow-two-to-one (allowTwoToOne) to remove it anyway`);
    }
  }
  return { member, problems };
}
