import { defragNeedBytes, freePercent, overDisarmLine, type AlarmView, type DefragMemberView } from '../../domain/defrag';
import { defragTimeoutMs } from '../../domain/scale';
import type { ClusterOps } from '../cluster';
import { CommandFailedError, PreconditionError, WaitTimeoutError, rethrowCancellation } from '../errors';
import { SshError } from '../ssh/session';
import { freeBytes, requireFree } from '../node/disk';
import { alarmList, memberQuotaBytes } from './alarms';
import { moveLeaderOff } from './membership';
import { clusterState, inInventoryOrder, memberStatuses, servesDespiteAlarm } from './reads';
import { runtimeOf } from '../runtime';
import { shScript } from '../ssh/quote';
import { startMember } from './startMember';
import { snapshotToolOn } from './version';
import type { ForeignEndpoint } from '../../domain/oneCluster';

/**
 * How long a member may take to serve again and catch up once etcd reported its rewrite done (ms):
 * it did not restart, so a member still silent after this is down, and the run stops there rather
 * than hold on a node that does not answer.
 */
const AFTER_DEFRAG_WAIT_MS = 60_000;
/** A member that does not answer its status for this long after its rewrite is down (ms). */
const SILENT_MS = 15_000;

/** What the pre-flight of a defragmentation read: each voting member's view, and the alarms. */
export interface DefragReport { members: DefragMemberView[]; alarms: AlarmView; foreign?: ForeignEndpoint[] }

/**
 * Reads, for every voting member: what its own endpoint says (leader, db size and size in use),
 * its backend quota (memberQuotaBytes) and the free disk of its node's data dir. A node whose SSH
 * does not answer keeps its etcd view with the disk unknown (SSH loss is not etcd loss). Members
 * are matched to inventory nodes by peer URL; a voter outside the inventory is a view named by its
 * member name, with no disk figure. Read-only.
 */
export async function defragReport(ops: ClusterOps): Promise<DefragReport> {
  const state = await clusterState(ops);
  const serving = state.members.filter((m) => !m.isLearner && servesDespiteAlarm(m)).flatMap((m) => m.clientURLs);
  const alarms = serving.length ? await alarmList(ops, state.control, serving) : { noSpace: [], corrupt: [] };
  // The plan goes through followers in inventory order.
  const voters = inInventoryOrder(ops, state.members.filter((m) => !m.isLearner));
  const members = await Promise.all(voters.map(async (m): Promise<DefragMemberView> => {
    const node = ops.inv.nodes.find((n) => m.peerURLs.includes(n.etcd.peerURL));
    const base = { node: node?.name ?? (m.name || m.id), memberId: m.id, isLeader: m.isLeader, serving: servesDespiteAlarm(m), dbSize: m.status?.dbSize ?? 0, dbSizeInUse: m.status?.dbSizeInUse ?? 0 };
    if (!node) return { ...base, quotaBytes: m.status?.dbSizeQuota ?? 0, diskError: 'not an inventory node' };
    let quotaBytes = m.status?.dbSizeQuota ?? 0;
    try {
      if (m.status) quotaBytes = await memberQuotaBytes(ops, node.name, node.etcd.clientURL, m.status.dbSizeQuota);
      return { ...base, quotaBytes, freeBytes: await freeBytes(ops, node.name, node.etcd.dataDir) };
    } catch (e) {
      rethrowCancellation(e);
      return { ...base, quotaBytes, diskError: (e as Error).message.slice(0, 200) };
    }
  }));
  return { members, alarms, ...(state.foreign ? { foreign: state.foreign } : {}) };
}

/** One member's rewrite: sizes before and after (bytes), how long etcd took (s), and where leadership went. */
export interface DefragResult {
  node: string;
  skipped?: string;
  before: { dbSize: number; dbSizeInUse: number };
  after?: { dbSize: number; dbSizeInUse: number };
  seconds?: number;
  movedLeaderTo?: string;
  /** SSH to the node broke while etcdctl ran: the outcome was read from etcd instead. */
  sshLost?: string;
  /** Rewritten offline (member stopped, `etcdutl defrag`, started): the tool that did it. */
  offline?: string;
}

/** Marks a member stopped by an offline defragmentation, beside its data dir, until it serves again. */
const offlineMark = (dataDir: string) => `${dataDir}.etcd-runbooks-offline-defrag`;

/**
 * Offline rewrite of the node's stopped member: `etcdutl defrag --data-dir` (etcdctl on 3.4),
 * which compacts the file into a new one and renames it over the old, then the file is given back
 * to the data dir's owner (the tool runs as root). The member is started again whatever happened
 * (a failed rewrite leaves the old file). A mark beside the data dir says the run stopped it, so a
 * retried attempt starts it again first. Source: etcd docs "etcdutl" (defrag: "defragments the
 * storage of an etcd member ... when the member is not running").
 */
async function defragOffline(ops: ClusterOps, node: string, dataDir: string, timeoutMs: number): Promise<string> {
  const rt = runtimeOf(ops);
  const { tool, version } = await snapshotToolOn(ops, node);
  await ops.runOk(node, ['touch', '--', offlineMark(dataDir)]);
  await rt.stop(node);
  let failed: unknown;
  try {
    await ops.runOk(node, [tool, 'defrag', `--data-dir=${dataDir}`], { timeoutMs });
    await ops.runOk(node, shScript('chown --reference="$1/member/snap" -- "$1/member/snap/db"', dataDir));
  } catch (e) {
    failed = e;
  }
  await startMember(ops, node);
  await ops.runOk(node, ['rm', '-f', '--', offlineMark(dataDir)]);
  if (failed) throw failed;
  return `${tool} ${version}`;
}

/**
 * Defragments the node's member online, then waits until it serves again and has applied what
 * the leader had committed when the rewrite ended. Checks first (idempotent): a member already
 * below `minFreePercent` free pages (and under the NOSPACE disarm line when `noSpace`) is left
 * as it is; every other voter must serve (PreconditionError otherwise: a second member blocked
 * could be the quorum); a member that leads hands leadership to another serving voter first; the data dir's
 * filesystem must hold the new file (defragNeedBytes), else PreconditionError; a node whose SSH
 * does not answer there is skipped, named. `etcdctl defrag` is sent to the member's own client URL
 * only, from its node, with a timeout that follows the database size (defragTimeoutMs); SSH lost
 * while it runs, the outcome is read from etcd. `offline`: the member is stopped and its file
 * rewritten by etcdutl instead (defragOffline), for a database too large to rewrite online. A member silent for SILENT_MS after it is down
 * (WaitTimeoutError). Source: etcd docs "Maintenance: Defragmentation"
 * (https://etcd.io/docs/v3.5/op-guide/maintenance/#defragmentation), reference 000 §7 (move the
 * leader first).
 */
export async function defragMember(ops: ClusterOps, node: string, minFreePercent: number, noSpace: boolean, offline = false): Promise<DefragResult> {
  const spec = ops.node(node).etcd;
  const read = async () => {
    const { view, statuses, leader } = await memberStatuses(ops);
    const m = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
    if (!m) throw new PreconditionError(`${node}: not a member of cluster ${ops.inv.cluster}`);
    return { view, m, status: statuses.find((s) => s.memberId === m.id), leader, statuses };
  };
  let first = await read();
  // An offline rewrite of this run stopped the member and was cut short (worker crash, timeout): start it again first.
  if (!first.status && offline && (await ops.run(node, ['test', '-e', offlineMark(spec.dataDir)])).exitCode === 0) {
    await startMember(ops, node);
    await ops.runOk(node, ['rm', '-f', '--', offlineMark(spec.dataDir)]);
    first = await read();
  }
  if (!first.status) throw new PreconditionError(`${node}: its member's endpoint ${spec.clientURL} does not answer; not defragmenting`);
  // A rewrite blocks its member: with another voter already down that could be the quorum.
  const silent = first.view.members.filter((x) => !x.isLearner && !first.statuses.some((s) => s.memberId === x.id));
  if (silent.length) throw new PreconditionError(`${silent.map((x) => x.name || x.id).join(', ')}: not serving; not defragmenting ${node}'s member while another voter is down`);
  const before = { dbSize: first.status.dbSize, dbSizeInUse: first.status.dbSizeInUse };
  const quotaBytes = noSpace ? await memberQuotaBytes(ops, node, spec.clientURL, first.status.dbSizeQuota) : 0;
  if (freePercent(before) < minFreePercent && !(noSpace && overDisarmLine({ dbSize: before.dbSize, quotaBytes }))) {
    return { node, skipped: `already compact: ${freePercent(before)}% free`, before };
  }
  let movedLeaderTo: string | undefined;
  if (first.leader === first.m.id && first.statuses.length > 1) movedLeaderTo = (await moveLeaderOff(ops, node)).movedTo;
  try {
    await requireFree(ops, node, spec.dataDir, defragNeedBytes(before.dbSizeInUse), 'the defragmentation rewrite');
  } catch (e) {
    if (!(e instanceof SshError)) throw e;
    // SSH loss is not etcd loss: a member that still serves is left as it is, and named; one
    // that stopped answering too is down, and the run stops there.
    if (!(await read()).status) throw new PreconditionError(`${node}: neither SSH nor its member's endpoint answers: the node is down`);
    return { node, skipped: `SSH does not answer (${e.message.slice(0, 120)}): free disk cannot be checked; not rewritten`, before, ...(movedLeaderTo ? { movedLeaderTo } : {}) };
  }
  const timeoutMs = defragTimeoutMs(before.dbSize);
  const started = Date.now();
  let sshLost: string | undefined;
  let tool: string | undefined;
  if (offline) {
    tool = await defragOffline(ops, node, spec.dataDir, timeoutMs);
  } else {
    const argv = ops.etcdctlArgv([spec.clientURL], ['defrag'], `${Math.ceil(timeoutMs / 1000)}s`);
    try {
      const r = await ops.run(node, argv, { timeoutMs: timeoutMs + 30_000 });
      if (r.exitCode !== 0) throw new CommandFailedError(r.record, r.stderr);
    } catch (e) {
      // etcd goes on with a rewrite it was sent: judge it from etcd, asked from the other nodes.
      if (!(e instanceof SshError)) throw e;
      sshLost = e.message.slice(0, 120);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  let target = 0;
  let last = '';
  let silentSince: number | undefined;
  const after = await ops.waitFor(`${node}: member serving after defragmentation`, AFTER_DEFRAG_WAIT_MS, 500, async () => {
    const now = await read();
    const leaderStatus = now.statuses.find((s) => s.memberId === now.leader);
    if (!target && leaderStatus) target = leaderStatus.raftIndex;
    const s = now.status;
    last = s ? `applied ${s.raftAppliedIndex} of ${target}${now.leader ? '' : ', no leader'}` : 'no status answer';
    silentSince = s ? undefined : silentSince ?? Date.now();
    if (silentSince !== undefined && Date.now() - silentSince > SILENT_MS) throw new WaitTimeoutError(`${node}: its member has not answered for ${SILENT_MS / 1000} s since its rewrite; it is down`);
    if (!s || !now.leader || !target || s.raftAppliedIndex < target) return undefined;
    const health = (await clusterState(ops)).members.find((x) => x.id === now.m.id);
    return health && servesDespiteAlarm(health) ? { dbSize: s.dbSize, dbSizeInUse: s.dbSizeInUse } : undefined;
  }, () => last);
  return { node, before, after, seconds, ...(movedLeaderTo ? { movedLeaderTo } : {}), ...(sshLost ? { sshLost } : {}), ...(tool ? { offline: tool } : {}) };
}
