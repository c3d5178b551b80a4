/**
 * Which members a defragmentation run rewrites, in which order, and whether it may disarm a NOSPACE
 * alarm afterwards: pure decisions from what each member's own endpoint said.
 *
 * Rules and their sources:
 * - One member at a time, followers first, the leader last after leadership moved off it: defrag
 *   blocks the member's reads and writes while it rewrites its database (etcd docs "Maintenance:
 *   Defragmentation", https://etcd.io/docs/v3.5/op-guide/maintenance/#defragmentation).
 * - A member whose free pages (db size minus size in use) are below `minFreePercent` of its file
 *   is skipped: the rewrite would gain little and block the member for nothing. Under a NOSPACE
 *   alarm every member over the disarm line is rewritten whatever its fragmentation.
 * - The rewrite writes a new file of about the size in use beside the old one: that much free disk
 *   plus a margin, measured on the data dir's filesystem, or the member is skipped (a defrag that
 *   runs out of disk fails half-way, with the member blocked until then).
 * - A NOSPACE alarm is disarmed only when every member's database file is below DISARM_RATIO of
 *   its quota: etcd raises it again on the next write while the file is over the quota
 *   (etcd server/storage/quota.go: size + cost < quota; etcd docs "Maintenance: Space quota").
 *   A CORRUPT alarm is never disarmed: `alarm disarm` clears every alarm, so the run refuses.
 */

/** What one member's endpoint said, with the free disk of its data dir. Sizes in bytes. */
export interface DefragMemberView {
  node: string;
  /** Member ID, hex. */
  memberId: string;
  isLeader: boolean;
  /** The endpoint answered `endpoint status`. */
  serving: boolean;
  dbSize: number;
  dbSizeInUse: number;
  /** The member's backend quota (`--quota-backend-bytes`), as etcd reports it. */
  quotaBytes: number;
  /** Free bytes on the data dir's filesystem; undefined when the node's SSH did not answer. */
  freeBytes?: number;
  /** Why freeBytes is missing. */
  diskError?: string;
}

/** Active alarms, by type, with the member IDs (hex) that raised them. */
export interface AlarmView { noSpace: string[]; corrupt: string[] }

/** A run's decision for one member. */
export interface DefragChoice {
  node: string;
  /** undefined: rewrite it; otherwise why not. */
  skip?: string;
  /** Free bytes needed on the data dir's filesystem for the rewrite. */
  needBytes: number;
  /** Free pages as a percentage of the file, rounded down. */
  freePercent: number;
}

export interface DefragPlan {
  /** Followers first, in inventory order, then the leader. */
  members: DefragChoice[];
  /** The node whose member leads at pre-flight (rewritten last, after leadership moves off it). */
  leader?: string;
  /** A NOSPACE alarm is raised: disarm it and check writes once the members are rewritten. */
  disarm: boolean;
  /** Reasons the run must not start; empty when it may. */
  problems: string[];
}

/** A NOSPACE alarm is disarmed only when every member's file is below this share of its quota. */
export const DISARM_RATIO = 0.9;
/** Free disk kept beyond the new file: 10% of it plus the WAL's 64 MiB preallocation. */
const MARGIN_BYTES = 64 * 2 ** 20;

/** Free bytes a member's rewrite needs on its data dir's filesystem: the size in use, +10%, +64 MiB. */
export function defragNeedBytes(dbSizeInUse: number): number {
  return Math.ceil(dbSizeInUse * 1.1) + MARGIN_BYTES;
}

/** Free pages as a whole percentage of the database file (0 for an empty file). */
export function freePercent(m: { dbSize: number; dbSizeInUse: number }): number {
  return m.dbSize > 0 ? Math.floor(((m.dbSize - m.dbSizeInUse) / m.dbSize) * 100) : 0;
}

/** Whether the member's file is at or over the line under which a NOSPACE alarm may be disarmed. */
export function overDisarmLine(m: { dbSize: number; quotaBytes: number }): boolean {
  return m.dbSize >= m.quotaBytes * DISARM_RATIO;
}

/**
 * Decides the run from the members' views. Problems (refuse before anything changes): a voting
 * member whose endpoint does not answer (a rewrite would then leave the cluster one member
 * short while it blocks), no member at all, or a CORRUPT alarm. Skips: below `minFreePercent`
 * (unless NOSPACE and over the disarm line), not enough free disk, free disk unknown (SSH did not
 * answer: SSH loss is not etcd loss, the member is left as it is and named).
 */
export function planDefrag(views: readonly DefragMemberView[], alarms: AlarmView, minFreePercent: number): DefragPlan {
  const problems: string[] = [];
  if (!views.length) problems.push('no voting member found');
  for (const v of views) if (!v.serving) problems.push(`${v.node}: its member's endpoint does not answer; defragmenting another member now could leave the cluster without quorum`);
  if (alarms.corrupt.length) problems.push(`CORRUPT alarm raised by member(s) ${alarms.corrupt.join(', ')}: check the members' hashes and restore; \`alarm disarm\` would clear it too`);
  const disarm = alarms.noSpace.length > 0;
  const choose = (v: DefragMemberView): DefragChoice => {
    const pct = freePercent(v);
    const needBytes = defragNeedBytes(v.dbSizeInUse);
    const base = { node: v.node, needBytes, freePercent: pct };
    if (pct < minFreePercent && !(disarm && overDisarmLine(v))) return { ...base, skip: `${pct}% of its ${mib(v.dbSize)} file is free, below ${minFreePercent}%` };
    if (v.freeBytes === undefined) return { ...base, skip: `free disk of its data dir unknown (${v.diskError ?? 'SSH did not answer'}); not rewritten` };
    if (v.freeBytes < needBytes) return { ...base, skip: `not enough free disk for the rewrite: ${mib(v.freeBytes)} free, needs ${mib(needBytes)}` };
    return base;
  };
  const leader = views.find((v) => v.isLeader);
  const ordered = [...views.filter((v) => !v.isLeader), ...(leader ? [leader] : [])];
  return { members: ordered.map(choose), ...(leader ? { leader: leader.node } : {}), disarm, problems };
}

/** Sizes after a rewrite that still keep a NOSPACE alarm armed: each member over the disarm line, named with its figures. */
export function stillOverQuota(views: readonly { node: string; dbSize: number; quotaBytes: number }[]): string[] {
  return views.filter(overDisarmLine).map((v) => `${v.node}: ${mib(v.dbSize)} file, quota ${mib(v.quotaBytes)} (disarm needs below ${Math.round(DISARM_RATIO * 100)}%)`);
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
