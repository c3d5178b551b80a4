import { findMember, voterCount, type Member, type MemberSpec } from './members';
import { isRecommendedSize } from './quorum';
import { joinVersionProblem } from './etcdVersion';

/** What pre-flight learns about a node that is to become a member (read-only checks over SSH). */
export interface NodeReadiness {
  spec: MemberSpec;
  reachable: boolean;
  /** The data dir is absent or empty. */
  dataDirEmpty: boolean;
  /** Every TLS file named in the inventory exists on the node. */
  tlsFilesPresent: boolean;
  etcdActive: boolean;
  /** Bytes free on the filesystem of the data dir (absent when the node was not reachable). */
  dataDirFreeBytes?: number;
  /** Why the node could not be inspected (SSH error), when not reachable. */
  error?: string;
  /** Version of the etcd binary the node's member service would run (absent: not found or unknown). */
  etcdVersion?: string;
  /** Backend quota the new member would run with (inventory memberSettings, else etcd's 2 GiB). */
  quotaBytes?: number;
  /** Why the member runtime could not start a new member there (kubeadm: node already joined, CRI down). */
  runtimeProblem?: string;
}

/**
 * A joining member receives the whole database; past its backend quota it raises the NOSPACE alarm
 * and the cluster stops taking writes. Source: etcd docs "Maintenance: space quota".
 */
export function quotaProblem(r: NodeReadiness, dbSizeBytes: number): string | undefined {
  if (!r.quotaBytes || dbSizeBytes <= r.quotaBytes) return undefined;
  return `${r.spec.node}: the database (${(dbSizeBytes / 2 ** 20).toFixed(0)} MiB) exceeds the backend quota a new member would run with (${(r.quotaBytes / 2 ** 20).toFixed(0)} MiB); set memberSettings.ETCD_QUOTA_BACKEND_BYTES in the inventory to the cluster's --quota-backend-bytes`;
}

/** What pre-flight learned about the cluster and each node to add. */
export interface ExpandFacts {
  members: Member[];
  /** Names of started members whose own endpoint answered health and status checks. */
  healthyMembers: string[];
  /** Per node to add: its member spec from the inventory and what the node itself showed. */
  candidates: NodeReadiness[];
  /** Permit an even number of voters at the end (etcd works but gains no fault tolerance). */
  allowEvenSize: boolean;
  /** The largest member database (bytes): a new member receives this much. 0 when unknown. */
  dbSizeBytes?: number;
  /** The cluster version (X.Y.0) etcd reports; a joining member must not be older. */
  clusterVersion?: string;
}

/** WAL segments etcd preallocates in a fresh data dir (64 MiB; etcd docs "Hardware recommendations"). */
const WAL_RESERVE = 64 * 1024 * 1024;

/** Free bytes a new member's data dir needs: the database it will receive, 10% slack and the WAL. */
export function newMemberDiskNeed(dbSizeBytes: number): number {
  return Math.ceil(dbSizeBytes * 1.1) + WAL_RESERVE;
}

export interface ExpandPlan {
  /** Members to add, in order, one at a time. */
  toAdd: MemberSpec[];
  /** Nodes that already are voting members with the right name and peer URL: nothing to do. */
  alreadyVoters: string[];
  /** Blocking problems; when non-empty nothing may be changed. */
  problems: string[];
  votersBefore: number;
  votersAfter: number;
}

/**
 * Decides what `expandCluster` must do. Source: reference 000 §8.1 (snapshot, then add members one
 * at a time) and §5 (add as learner, promote); etcd docs "runtime reconfiguration" (one change at a
 * time, check cluster health first). A re-run after everything was done yields an empty `toAdd`.
 */
export function planExpand(facts: ExpandFacts): ExpandPlan {
  const problems: string[] = [];
  const toAdd: MemberSpec[] = [];
  const alreadyVoters: string[] = [];
  const votersBefore = voterCount(facts.members);
  const ours = new Set(facts.candidates.map((c) => c.spec.peerURL));

  for (const m of facts.members) {
    if (m.name !== '' && !m.isLearner && !facts.healthyMembers.includes(m.name)) problems.push(`member ${m.name} (${m.id}) is not healthy`);
    if (ours.has(m.peerURLs[0] ?? '')) continue;
    if (m.isLearner) problems.push(`learner ${m.name || m.id} is already in the cluster; etcd allows one learner at a time (promote or remove it first)`);
    if (m.name === '') problems.push(`member ${m.id} (${m.peerURLs.join(',')}) was added but never started; remove it first`);
  }

  const seen = new Set<string>();
  for (const c of facts.candidates) {
    const { spec } = c;
    if (seen.has(spec.node)) { problems.push(`node ${spec.node} is listed twice`); continue; }
    seen.add(spec.node);
    const standing = findMember(facts.members, spec);
    if (standing.kind === 'conflict') { problems.push(`${spec.node}: ${standing.reason}`); continue; }
    if (standing.kind === 'voter') { alreadyVoters.push(spec.node); continue; }
    if (c.error) { problems.push(`${spec.node}: ${c.error}`); continue; }
    if (!c.reachable) { problems.push(`${spec.node}: not reachable over SSH`); continue; }
    if (!c.tlsFilesPresent) problems.push(`${spec.node}: TLS files named in the inventory are missing on the node`);
    if (standing.kind === 'absent' || standing.kind === 'unstarted') {
      if (c.runtimeProblem) problems.push(c.runtimeProblem);
      if (c.etcdActive) problems.push(`${spec.node}: etcd is already running there but is not a member of this cluster`);
      if (!c.dataDirEmpty) problems.push(`${spec.node}: data dir ${spec.dataDir} is not empty; a new member must start empty (move it aside first)`);
      const need = newMemberDiskNeed(facts.dbSizeBytes ?? 0);
      const tooOld = joinVersionProblem(spec.node, c.etcdVersion, facts.clusterVersion);
      if (tooOld) problems.push(tooOld);
      const overQuota = quotaProblem(c, facts.dbSizeBytes ?? 0);
      if (overQuota) problems.push(overQuota);
      if (c.dataDirFreeBytes !== undefined && c.dataDirFreeBytes < need) {
        problems.push(`${spec.node}: ${(c.dataDirFreeBytes / 2 ** 20).toFixed(1)} MiB free for ${spec.dataDir}, needs ${(need / 2 ** 20).toFixed(1)} MiB (database ${((facts.dbSizeBytes ?? 0) / 2 ** 20).toFixed(1)} MiB plus WAL)`);
      }
    }
    toAdd.push(spec);
  }

  const requested = [...new Map(facts.candidates.map((c) => [c.spec.node, c.spec])).values()];
  const votersAfter = votersBefore + requested.filter((s) => findMember(facts.members, s).kind !== 'voter').length;
  if (toAdd.length > 0 && !isRecommendedSize(votersAfter) && !facts.allowEvenSize) {
    problems.push(`the cluster would end with ${votersAfter} voting members; an even size adds no fault tolerance (references 002, 003: always an odd number of members); pass --allow-even-size (allowEvenSize) to do it anyway, e.g. as the first of two additions`);
  }
  return { toAdd, alreadyVoters, problems, votersBefore, votersAfter };
}
