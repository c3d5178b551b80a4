import { hasQuorum, quorumSize } from './quorum';

/**
 * What the worker learned about one member's node, asking etcd itself and judging SSH apart.
 * Shapes only; gathered by the `probeLiveness` activity.
 */
export interface MemberLiveness {
  node: string;
  /** SSH answered (a command ran). SSH loss is not etcd loss. */
  ssh: { ok: boolean; error?: string };
  /** Other nodes whose etcdctl got this member's `endpoint status` over the network. */
  seenBy: string[];
  /** Its own node got its status over its client URL (etcd runs there, whatever the network). */
  selfSeen: boolean;
  /** TCP connects from the worker to its client and peer ports (no TLS: the worker holds no client key). */
  workerTcp: { client: boolean; peer: boolean };
  /** Member ID, cluster ID, raft index and the like, from whichever observer got a status. */
  status?: { memberId: string; clusterId: string; leader: string; raftTerm: number; raftIndex: number; raftAppliedIndex: number; revision: number; isLearner: boolean; version: string; dbSize?: number; dbSizeInUse?: number; dbSizeQuota?: number };
  /** IDs of the voting members in this member's own member list, when it answered one. */
  voterIds?: string[];
}

/**
 * - serving: another node got its status over the network;
 * - listening: no status from another node, but its client or peer port accepts TCP from the worker
 *   (it may serve; a frozen process still accepts connections);
 * - isolated: only its own node reaches it (etcd runs, its network does not carry etcd traffic);
 * - silent: nothing answers on its ports and no node got a status.
 */
export type EtcdLiveness = 'serving' | 'listening' | 'isolated' | 'silent';

/** The judgment for one member, from etcd's answers only (never from SSH). */
export function etcdLiveness(m: MemberLiveness): EtcdLiveness {
  if (m.seenBy.length > 0) return 'serving';
  if (m.workerTcp.client || m.workerTcp.peer) return 'listening';
  if (m.selfSeen) return 'isolated';
  return 'silent';
}

/** One line per member for the plan: SSH and etcd judged apart, e.g. `node2: ssh FAILS; etcd serving (seen by node1)`. */
export function describeLiveness(m: MemberLiveness): string {
  const e = etcdLiveness(m);
  const etcd = e === 'serving' ? `serving (seen by ${m.seenBy.join(', ')})`
    : e === 'listening' ? `listening (ports open from the worker${m.workerTcp.client ? ': client' : ''}${m.workerTcp.peer ? `${m.workerTcp.client ? ',' : ':'} peer` : ''}), no status`
      : e === 'isolated' ? 'runs but only its own node reaches it' : 'no answer on client or peer port';
  const ssh = m.ssh.ok ? 'ssh ok' : `ssh FAILS${m.ssh.error ? ` (${m.ssh.error.slice(0, 80)})` : ''}`;
  const idx = m.status ? `; ${m.status.version ? `etcd ${m.status.version}, ` : ''}raft index ${m.status.raftIndex}, revision ${m.status.revision}` : '';
  return `${m.node}: ${ssh}; etcd ${etcd}${idx}`;
}

/** What the quorum judgment found: voting members, how many may still serve, and whether that is a quorum. */
export interface QuorumJudgment {
  voters: number;
  /** Nodes whose member is serving or listening (may be part of a live quorum). */
  answering: string[];
  quorum: number;
  hasQuorum: boolean;
}

/**
 * Whether a quorum of voting members may still be alive, judged from etcd alone. The voter count is
 * the largest voter set any member reported (a member list is local data, served without quorum),
 * else the number of member nodes named. Members that answer only their own node are not counted:
 * they are cut off, and will be fenced over SSH before anything is forced.
 * Source: the project's safety rule "judge a member by asking etcd, not by whether SSH answers";
 * etcd FAQ (failure tolerance); reference 001 (force-new-cluster only after quorum is lost).
 */
export function judgeQuorum(members: readonly MemberLiveness[]): QuorumJudgment {
  const voterSets = members.flatMap((m) => (m.voterIds ? [m.voterIds] : []));
  const voters = Math.max(members.length, ...voterSets.map((v) => v.length));
  const answering = members.filter((m) => !m.status?.isLearner && ['serving', 'listening'].includes(etcdLiveness(m))).map((m) => m.node);
  return { voters, answering, quorum: quorumSize(voters), hasQuorum: hasQuorum(voters, answering.length) };
}

/**
 * Every serving member must report one cluster ID and agree on the voter set, or there are two
 * clusters. Returns a problem per disagreement (empty when consistent).
 */
export function splitBrainProblems(members: readonly MemberLiveness[]): string[] {
  const serving = members.filter((m) => m.status && m.voterIds);
  const ids = new Set(serving.map((m) => m.status!.clusterId));
  const sets = new Set(serving.map((m) => [...m.voterIds!].sort().join(',')));
  const p: string[] = [];
  if (ids.size > 1) p.push(`members report different cluster IDs: ${serving.map((m) => `${m.node}=${m.status!.clusterId}`).join(', ')}`);
  if (sets.size > 1) p.push(`members disagree on the voting members: ${serving.map((m) => `${m.node}=[${m.voterIds!.join(',')}]`).join('; ')}`);
  return p;
}
