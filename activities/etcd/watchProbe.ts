import { etcdLiveness } from '../../domain/liveness';
import type { WatchProbe } from '../../domain/watch';
import type { ClusterOps } from '../cluster';
import { rethrowCancellation } from '../errors';
import { alarmList, memberQuotaBytes } from './alarms';
import { probeLiveness } from './liveness';
import { inInventoryOrder, memberList, type MemberListView } from './reads';
import { nodeFacts } from './watchNodeFacts';

/** Backend quotas read from a member's /metrics (etcd 3.4, 3.5 report none in their status), by client URL and member ID. */
const quotas = new Map<string, { bytes: number; at: number }>();
/** How long a quota read from /metrics is reused (ms): it changes only when the member restarts with another flag. */
const QUOTA_TTL_MS = 10 * 60_000;

/** The member's backend quota (bytes): from its status, else /metrics at most every QUOTA_TTL_MS; undefined when unreadable. */
async function quotaOf(ops: ClusterOps, node: string, memberId: string, statusQuota: number | undefined): Promise<number | undefined> {
  if (statusQuota) return statusQuota;
  const key = `${ops.node(node).etcd.clientURL} ${memberId}`;
  const cached = quotas.get(key);
  if (cached && Date.now() - cached.at < QUOTA_TTL_MS) return cached.bytes;
  try {
    const bytes = await memberQuotaBytes(ops, node, ops.node(node).etcd.clientURL, undefined);
    quotas.set(key, { bytes, at: Date.now() });
    return bytes;
  } catch (e) {
    rethrowCancellation(e);
    return undefined;
  }
}

/** A watch probe, and the nodes holding a member (the watch carries them to the next probe). */
export interface WatchProbeResult { probe: WatchProbe; memberNodes: string[] }

/**
 * One probe of the cluster for its watch, read-only: the member list (proven one cluster:
 * memberList), each inventory node's liveness as the pre-flight judges it (etcd asked over the
 * network, SSH apart: probeLiveness), and the alarms. When no member list can be read (no
 * quorum, or no etcd answers), the members are `lastMembers` (what the watch read before). A
 * probe that could ask nothing (no node answers SSH, no member known) says so in `error`, and
 * the watch counts it as a failed probe, never as members lost. Each member that gave a status
 * carries its leader, version and database size with its quota (domain/watchHealth.ts judges them),
 * and each member node that answers SSH its certificates' expiry, data dir free space and clock,
 * read at most every 5 minutes (watchNodeFacts.ts; domain/watchNode.ts judges them).
 * Source: reference 000 §3; etcd docs "Maintenance: Space quota" (alarms, quota).
 */
export async function watchProbe(ops: ClusterOps, lastMembers: readonly string[]): Promise<WatchProbeResult> {
  const at = Date.now();
  let view: MemberListView | undefined;
  let listError = '';
  try {
    view = await memberList(ops);
  } catch (e) {
    rethrowCancellation(e);
    listError = (e as Error).message.slice(0, 200);
  }
  const nodeOf = (peerURLs: string[]) => ops.inv.nodes.find((n) => peerURLs.includes(n.etcd.peerURL))?.name;
  // In inventory order (the member list's is by ID): the proposals' fields read the same every time.
  const members = view ? inInventoryOrder(ops, view.members).flatMap((m) => { const node = nodeOf(m.peerURLs); return node ? [{ node, learner: m.isLearner }] : []; }) : lastMembers.map((node) => ({ node, learner: false }));
  const memberNodes = members.map((m) => m.node);
  const empty = { spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [] };
  if (!members.length) return { probe: { at, members: [], ...empty, error: `no member known: ${listError || 'the member list is empty'}` }, memberNodes };
  const liveness = await probeLiveness(ops, ops.inv.nodes.map((n) => n.name));
  if (!liveness.some((l) => l.ssh.ok)) return { probe: { at, members: [], ...empty, error: 'no inventory node answered SSH: etcd could not be asked' }, memberNodes };
  const foreign = (view?.foreign ?? []).map((f) => ({ ...(f.node ? { node: f.node } : {}), endpoint: f.endpoint, reason: f.reason }));
  const serving = view ? members.filter((m) => !m.learner && !foreign.some((f) => f.node === m.node) && liveness.find((l) => l.node === m.node)?.status).map((m) => ops.node(m.node).etcd.clientURL) : [];
  let alarms = empty.alarms as WatchProbe['alarms'];
  if (view && serving.length) {
    try {
      const a = await alarmList(ops, view.control, serving);
      const name = (id: string) => view!.members.find((m) => m.id === id)?.name || id;
      alarms = { noSpace: a.noSpace.map(name), corrupt: a.corrupt.map(name) };
    } catch (e) {
      rethrowCancellation(e);
    }
  }
  const watched = await Promise.all(members.map(async (m) => {
    const l = liveness.find((x) => x.node === m.node)!;
    const away = foreign.some((f) => f.node === m.node);
    const s = away ? undefined : l.status;
    const quota = s && l.ssh.ok ? await quotaOf(ops, m.node, s.memberId, s.dbSizeQuota) : s?.dbSizeQuota;
    const facts = l.ssh.ok && !away ? await nodeFacts(ops, m.node) : undefined;
    return {
      node: m.node, learner: m.learner, etcd: away ? 'silent' as const : etcdLiveness(l), ssh: l.ssh.ok, ...(away ? { foreign: true } : {}),
      ...(s ? { raftIndex: s.raftIndex, memberId: s.memberId, leader: s.leader, version: s.version } : {}),
      ...(s?.dbSize !== undefined ? { db: { size: s.dbSize, inUse: s.dbSizeInUse ?? s.dbSize, ...(quota ? { quota } : {}) } } : {}),
      ...(facts ? { facts } : {}),
    };
  }));
  return {
    probe: {
      at,
      members: watched,
      spare: liveness.filter((l) => !memberNodes.includes(l.node) && l.ssh.ok).map((l) => l.node),
      alarms,
      foreign,
    },
    memberNodes,
  };
}
