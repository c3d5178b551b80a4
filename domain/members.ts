import type { MemberId } from './memberId';

/** One entry of `etcdctl member list`, IDs as hex strings. An unstarted member has an empty name. */
export interface Member {
  id: MemberId;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** What the inventory says a node's member should be: name, peer URL, client URL, data dir. */
export interface MemberSpec {
  node: string;
  name: string;
  peerURL: string;
  clientURL: string;
  dataDir: string;
}

/**
 * Where a wanted member stands in the current member list:
 * - absent: no member has its name or peer URL;
 * - voter / learner: a started member with its name and peer URL;
 * - unstarted: added (by us, earlier) with its peer URL but never started, so it has no name yet;
 * - conflict: its name or peer URL belongs to a member that does not match the spec.
 */
export type MemberStanding =
  | { kind: 'absent' }
  | { kind: 'voter' | 'learner' | 'unstarted'; member: Member }
  | { kind: 'conflict'; member: Member; reason: string };

/** Looks a member up by name and peer URL, as `member add` must do before adding (idempotency). */
export function findMember(members: readonly Member[], spec: Pick<MemberSpec, 'name' | 'peerURL'>): MemberStanding {
  const byPeer = members.find((m) => m.peerURLs.includes(spec.peerURL));
  const byName = members.find((m) => m.name !== '' && m.name === spec.name);
  if (byName && byName !== byPeer) {
    return { kind: 'conflict', member: byName, reason: `member name ${spec.name} is taken by member ${byName.id} with peer URLs ${byName.peerURLs.join(',')}` };
  }
  if (!byPeer) return { kind: 'absent' };
  if (byPeer.name === '') return { kind: 'unstarted', member: byPeer };
  if (byPeer.name !== spec.name) {
    return { kind: 'conflict', member: byPeer, reason: `peer URL ${spec.peerURL} belongs to member ${byPeer.name} (${byPeer.id})` };
  }
  return { kind: byPeer.isLearner ? 'learner' : 'voter', member: byPeer };
}

/** Client URLs of started voting members, less `except` (endpoints serving another cluster): where membership RPCs must go (a learner refuses them). */
export function voterClientURLs(members: readonly Member[], except: readonly { endpoint: string }[] = []): string[] {
  return members.filter((m) => !m.isLearner && m.name !== '').flatMap((m) => m.clientURLs).filter((u) => !except.some((e) => e.endpoint === u));
}

/** Number of voting (non-learner) members. */
export function voterCount(members: readonly Member[]): number {
  return members.filter((m) => !m.isLearner).length;
}

/**
 * ETCD_INITIAL_CLUSTER for a member joining an existing cluster: every started member's
 * name=peerURL plus the joining member's own. etcdctl 3.4 `member add -w json` omits this
 * line (lab notes), so it is built from the member list. Source: etcd runtime reconfiguration
 * docs, "Add a new member"; reference 004 (ETCD_INITIAL_CLUSTER drop-in).
 */
export function initialClusterFor(members: readonly Member[], joining: Pick<MemberSpec, 'name' | 'peerURL'>): string {
  const entries: string[] = [];
  for (const m of members) {
    if (m.peerURLs.includes(joining.peerURL)) continue;
    if (m.name === '') throw new Error(`member ${m.id} (${m.peerURLs.join(',')}) was added but never started; resolve it before adding another`);
    for (const url of m.peerURLs) entries.push(`${m.name}=${url}`);
  }
  entries.push(`${joining.name}=${joining.peerURL}`);
  return entries.join(',');
}
