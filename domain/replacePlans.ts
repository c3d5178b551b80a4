import { findMember } from './members';
import { newMemberDiskNeed, quotaProblem, type NodeReadiness } from './expandPlan';
import { checkRemoval, type ObservedMember } from './removal';
import { joinVersionProblem } from './etcdVersion';

/** Problems that keep `r` from becoming a new member now (reachable, TLS files, empty data dir, etcd stopped). */
function newMemberProblems(r: NodeReadiness, dbSizeBytes: number, dataDirWillBeMovedAside = false, clusterVersion?: string): string[] {
  const node = r.spec.node;
  if (!r.reachable) return [`${node}: not reachable over SSH${r.error ? ` (${r.error})` : ''}`];
  const p: string[] = [];
  if (!r.tlsFilesPresent) p.push(`${node}: TLS files named in the inventory are missing on the node`);
  if (r.runtimeProblem) p.push(r.runtimeProblem);
  if (!dataDirWillBeMovedAside && !r.dataDirEmpty) p.push(`${node}: data dir ${r.spec.dataDir} is not empty; a new member must start empty`);
  if (!dataDirWillBeMovedAside && r.etcdActive) p.push(`${node}: etcd is running there but the node is not a member`);
  const tooOld = joinVersionProblem(node, r.etcdVersion, clusterVersion);
  if (tooOld) p.push(tooOld);
  const overQuota = quotaProblem(r, dbSizeBytes);
  if (overQuota) p.push(overQuota);
  const need = newMemberDiskNeed(dbSizeBytes);
  if (r.dataDirFreeBytes !== undefined && r.dataDirFreeBytes < need) p.push(`${node}: ${(r.dataDirFreeBytes / 2 ** 20).toFixed(1)} MiB free for ${r.spec.dataDir}, needs ${(need / 2 ** 20).toFixed(1)} MiB`);
  return p;
}

export interface ReplacePlan { addReplacement: boolean; problems: string[] }

/**
 * Replace a failed member: remove it through the healthy members, then add the replacement (the
 * same node, repaired, or another) as a learner and promote it. Refuses a healthy member (nothing
 * to replace), a removal that would lose quorum, and a replacement that cannot join.
 * Source: reference 000 §8.2; 001 (remove a faulty member, re-add); 002 (replace a failed host);
 * 004 (replacing a failed member).
 */
export function planReplace(members: ObservedMember[], failed: NodeReadiness, replacement: NodeReadiness, dbSizeBytes = 0, clusterVersion?: string): ReplacePlan {
  const problems: string[] = [];
  const same = failed.spec.node === replacement.spec.node;
  const check = checkRemoval(members, failed.spec.peerURL, true, true); // reference 000 §8.2: remove, then add
  problems.push(...check.problems);
  if (check.member?.healthy && !check.member.isLearner) problems.push(`member ${check.member.name} on ${failed.spec.node} is healthy; nothing to replace (use migrate or remove-member)`);
  const rep = findMember(members, replacement.spec);
  if (same) {
    if (!failed.reachable) problems.push(`${failed.spec.node} does not answer; bring it back (repaired, disk wiped or not) before replacing it with itself, or name another replacement node`);
    else problems.push(...newMemberProblems(replacement, dbSizeBytes, true, clusterVersion));
    return { addReplacement: true, problems };
  }
  if (rep.kind === 'conflict') problems.push(`${replacement.spec.node}: ${rep.reason}`);
  if (rep.kind === 'voter') return { addReplacement: false, problems };
  if (rep.kind === 'absent') problems.push(...newMemberProblems(replacement, dbSizeBytes, false, clusterVersion));
  return { addReplacement: true, problems };
}

export interface MigratePlan { addTarget: boolean; removeSource: boolean; problems: string[] }

/**
 * Migrate a member: add the target first (learner, promote), move leadership off the source if it
 * leads, then remove the source. Every voter must be healthy first. Source: reference 000 §8.3.
 */
export function planMigrate(members: ObservedMember[], from: NodeReadiness, to: NodeReadiness, dbSizeBytes = 0, clusterVersion?: string): MigratePlan {
  const problems: string[] = [];
  for (const m of members) if (!m.isLearner && !m.healthy) problems.push(`member ${m.name || m.id} is not healthy; migrate needs every voter healthy (replace it instead)`);
  const src = findMember(members, from.spec);
  const dst = findMember(members, to.spec);
  if (src.kind === 'conflict') problems.push(`${from.spec.node}: ${src.reason}`);
  if (dst.kind === 'conflict') problems.push(`${to.spec.node}: ${dst.reason}`);
  if (src.kind === 'absent' && dst.kind !== 'voter') problems.push(`${from.spec.node} is not a member of the cluster`);
  if (dst.kind === 'absent') problems.push(...newMemberProblems(to, dbSizeBytes, false, clusterVersion));
  const others = members.filter((m) => m.isLearner && !m.peerURLs.includes(to.spec.peerURL));
  if (others.length) problems.push(`learner ${others[0].name || others[0].id} is already in the cluster; etcd allows one learner at a time`);
  return { addTarget: dst.kind !== 'voter', removeSource: src.kind !== 'absent', problems };
}
