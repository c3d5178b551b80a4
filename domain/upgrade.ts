import { compareVersions, minorOf, parseVersion, type EtcdVersion } from './etcdVersion';

/**
 * Whether a rolling upgrade of every member to `target` follows etcd's supported upgrade path,
 * and in which order the members go. Pure.
 *
 * Rules and their sources:
 * - etcd below 3.4.4 is never a target: reference 000 §1 (earlier versions "contain serious bugs").
 * - One minor version at a time, never down: etcd docs "Upgrade etcd from 3.4 to 3.5" and "from 3.5
 *   to 3.6" (https://etcd.io/docs/v3.6/upgrades/); a mixed cluster runs at its lowest member's
 *   minor. Going back a minor needs etcd 3.6's downgrade procedure, which this runbook does not do.
 * - To 3.6, every 3.5 member first at 3.5.26 or later: etcd blog "Avoiding Zombie Cluster Members
 *   When Upgrading to etcd v3.6" (https://etcd.io/blog/2025/zombie_members_upgrade/; 3.5.20 fixed
 *   learners turned back into voters, 3.5.26 syncs the v3store membership from the v2store).
 * - Followers first, the leader last after leadership moved off it (etcd upgrade guides: "upgrade
 *   the leader last"; reference 000 §7 for the move).
 */

/** The lowest etcd release a runbook upgrades to (reference 000 §1). */
export const MIN_TARGET = '3.4.4';
/** The lowest 3.5 patch a member may run before going to 3.6 (etcd blog, December 2025). */
export const MIN_35_BEFORE_36 = '3.5.26';

/** One member as the upgrade sees it: its node, the version its own endpoint reports, whether it leads. */
export interface UpgradeMemberView { node: string; version: string; isLeader: boolean }

/** The members in upgrade order (followers in inventory order, then the leader), each with what to do. */
export interface UpgradeChoice { node: string; from: string; already: boolean }

export interface UpgradePlan { members: UpgradeChoice[]; leader?: string; problems: string[]; minorUpgrade: boolean }

/**
 * Checks the path from every member's version to `target` and orders the members. Problems (the
 * run refuses, naming each): a target that is not X.Y.Z or is below MIN_TARGET; a member whose
 * version is unknown, newer than the target, or more than one minor older; a 3.5 member below
 * MIN_35_BEFORE_36 when the target is 3.6. Members already at the target are kept in the order and
 * marked `already` (a resumed upgrade).
 */
export function planUpgrade(views: readonly UpgradeMemberView[], target: string): UpgradePlan {
  const problems: string[] = [];
  const t = parseVersion(target);
  const order = [...views.filter((v) => !v.isLeader), ...views.filter((v) => v.isLeader)];
  const leader = views.find((v) => v.isLeader)?.node;
  if (!t || !/^v?\d+\.\d+\.\d+$/.test(target)) return { members: [], problems: [`target ${JSON.stringify(target)} is not a release version like 3.6.16`], minorUpgrade: false, ...(leader ? { leader } : {}) };
  if (compareVersions(t, parseVersion(MIN_TARGET)!) < 0) problems.push(`etcd ${target} is below ${MIN_TARGET}, which reference 000 §1 names the oldest version without serious known bugs`);
  let minorUpgrade = false;
  for (const v of order) {
    const problem = memberPathProblem(v, t, target);
    if (problem) problems.push(problem);
    const cur = parseVersion(v.version);
    if (cur && cur.minor < t.minor) minorUpgrade = true;
  }
  return {
    members: order.map((v) => ({ node: v.node, from: v.version, already: parseVersion(v.version) !== undefined && compareVersions(parseVersion(v.version)!, t) === 0 })),
    problems, minorUpgrade, ...(leader ? { leader } : {}),
  };
}

function memberPathProblem(v: UpgradeMemberView, t: EtcdVersion, target: string): string | undefined {
  const cur = parseVersion(v.version);
  if (!cur) return `${v.node}: its member's version is unknown (${v.version || 'no status answer'})`;
  if (cur.major !== t.major) return `${v.node}: etcd ${v.version} to ${target} changes the major version; not supported`;
  if (compareVersions(cur, t) > 0) {
    return `${v.node}: etcd ${v.version} is newer than ${target}; this runbook does not downgrade (a minor downgrade needs etcd 3.6's downgrade procedure: https://etcd.io/docs/v3.6/downgrades/)`;
  }
  if (t.minor - cur.minor > 1) return `${v.node}: etcd ${v.version} to ${target} skips a minor version; upgrade to ${t.major}.${cur.minor + 1} first`;
  if (t.minor === 6 && cur.minor === 5 && compareVersions(cur, parseVersion(MIN_35_BEFORE_36)!) < 0) {
    return `${v.node}: etcd ${v.version} must first be upgraded to ${MIN_35_BEFORE_36} or later before ${minorOf(t)} (etcd blog "Avoiding Zombie Cluster Members When Upgrading to etcd v3.6")`;
  }
  return undefined;
}
