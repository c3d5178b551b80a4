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
 * Checks that removing the member with `peerURL` keeps quorum, and (unless `allowLeader`) that it is
 * not the leader. A learner never affects quorum. An absent member needs no removal.
 * Source: reference 000 §2 and §7 (keep a majority healthy; move the leader before removing it);
 * etcd FAQ (failure tolerance).
 */
export function checkRemoval(members: readonly ObservedMember[], peerURL: string, allowLeader = false): RemovalCheck {
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
    }
  }
  return { member, problems };
}
