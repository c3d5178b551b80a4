import type { Member, MemberSpec } from '../domain/members';
import type { ClusterOps } from './cluster';
import { PreconditionError, rethrowCancellation } from './errors';
import { probeLiveness, viewFromSurvivor } from './etcd/liveness';
import { clusterState, memberList, memberStatuses } from './etcd/reads';
import type { EndpointStatus } from './etcd/parse';
import { endpointStatusOfEach } from './etcd/statusEach';
import { forceNewClusterFlag } from './etcd/recovery';
import { dataDirState, moveDataDirAside } from './node/dataDir';
import { checkDisk, type DiskNeed } from './node/disk';
import { installRestored, restoringDir, trialRestore } from './node/restore';
import { runtimeOf } from './runtime';
import { shScript } from './ssh/quote';
import { clusterActivity, type ActivityDeps, type ClusterInput } from './wrap';

interface NodeInput extends ClusterInput { node: string }

/**
 * Between learner catch-up polls (ms). A learner that joins a small database catches up within a
 * few hundred ms of its start; etcd refuses to promote it before (the bare-script floor retries
 * the promote every 200 ms).
 */
const LEARNER_POLL_MS = 200;

const TAG = /^[A-Za-z0-9._-]+$/;
function checkTag(tag: string): void {
  if (!TAG.test(tag)) throw new PreconditionError(`bad tag ${JSON.stringify(tag)}`);
}

function memberOf(ops: ClusterOps, node: string): MemberSpec {
  const n = ops.node(node);
  return { node: n.name, name: n.etcd.memberName, peerURL: n.etcd.peerURL, clientURL: n.etcd.clientURL, dataDir: n.etcd.dataDir };
}

/**
 * The activities added for the "never worse" rules: liveness asked of etcd, proof that members are
 * down before --force-new-cluster, disk checks, the trial restore before fencing, the undo steps
 * of a restore or recovery, short probes for waits kept as workflow timers, and node clean-up.
 */
export function safetyActivities(deps: ActivityDeps) {
  return {
    /** Per node (default: every inventory node): SSH, and etcd asked from every node that answers and TCP from the worker. Read-only. */
    probeLiveness: clusterActivity(deps, (ops, input: ClusterInput & { nodes?: string[] }) => probeLiveness(ops, input.nodes?.length ? input.nodes : ops.inv.nodes.map((n) => n.name))),

    /** From the survivor's node and the worker: does each other member still answer (client status, peer port)? Read-only. */
    viewFromSurvivor: clusterActivity(deps, (ops, input: NodeInput & { others: string[] }) => viewFromSurvivor(ops, input.node, input.others)),

    /** Whether etcd runs on the node (runtime state: active, inactive, ...). Read-only. */
    etcdServiceState: clusterActivity(deps, async (ops, input: NodeInput) => ({ service: await runtimeOf(ops).state(input.node) })),

    /** Free disk for each need (node, path, bytes). Read-only. */
    checkDisk: clusterActivity(deps, (ops, input: ClusterInput & { needs: DiskNeed[] }) => checkDisk(ops, input.needs)),

    /** One SSH probe of the node (8 s). For waits that the workflow keeps as timers. */
    checkReachable: clusterActivity(deps, async (ops, input: NodeInput) => {
      try {
        await ops.runOk(input.node, ['true'], { timeoutMs: 8_000 });
        return { reachable: true };
      } catch (e) {
        rethrowCancellation(e);
        return { reachable: false, error: (e as Error).message.split('\n')[0].slice(0, 160) };
      }
    }),

    /**
     * Learner catch-up, bounded: polls every LEARNER_POLL_MS for up to `forSeconds` (at most 60)
     * and reports the learner's applied index against the leader's index at the first poll, and
     * the bytes of the leader's database received so far (the snapshot file etcd writes under
     * member/snap while it streams in) with rate and ETA in heartbeats, for the CLI. The first poll
     * reads the leader's index and database size (member list and every member's status); later
     * polls read the member list (is it still a learner, still a member?) and the learner's own
     * status. The workflow loops on it with timers while the index or the bytes move.
     * Source: etcd docs "Learner" (promote once in sync).
     */
    learnerProgress: clusterActivity(deps, async (ops, input: NodeInput & { target?: number; forSeconds: number }) => {
      const spec = memberOf(ops, input.node);
      const until = Date.now() + Math.min(60, input.forSeconds) * 1000;
      let target = input.target;
      let totalBytes = 0;
      const first = { at: Date.now(), bytes: -1 };
      for (;;) {
        let member: Member | undefined;
        let own: EndpointStatus | undefined;
        if (first.bytes < 0) {
          const { view, statuses, leader } = await memberStatuses(ops);
          const lead = statuses.find((x) => x.memberId === leader);
          target ??= lead?.raftIndex ?? 0;
          totalBytes = lead?.dbSize ?? 0;
          member = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
          own = statuses.find((x) => x.memberId === member?.id);
        } else {
          const view = await memberList(ops);
          const st = await endpointStatusOfEach(ops, view.control, [spec.clientURL]);
          member = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
          own = st.find((x) => x.memberId === member?.id);
        }
        if (!member) throw new PreconditionError(`${input.node}: member disappeared from the member list`);
        const applied = own?.raftAppliedIndex ?? 0;
        const receivedBytes = await receivedDbBytes(ops, input.node);
        const out = { appliedIndex: applied, leaderIndex: target ?? 0, dbSize: own?.dbSize ?? 0, receivedBytes, totalBytes };
        if (!member.isLearner || applied >= out.leaderIndex) return { caughtUp: true, ...out };
        if (Date.now() > until) return { caughtUp: false, ...out };
        if (first.bytes < 0) Object.assign(first, { at: Date.now(), bytes: receivedBytes });
        const rate = (receivedBytes - first.bytes) / Math.max(0.001, (Date.now() - first.at) / 1000);
        ops.heartbeat({ ...out, bytes: receivedBytes, rateBytesPerSec: Math.round(rate), ...(rate > 0 && totalBytes > receivedBytes ? { etaSeconds: Math.ceil((totalBytes - receivedBytes) / rate) } : {}) });
        await new Promise((r) => setTimeout(r, LEARNER_POLL_MS));
      }
    }),

    /** Trial restore into `<dataDir>.restoring-<tag>` before anything is fenced (disk checked). */
    trialRestore: clusterActivity(deps, (ops, input: NodeInput & { path: string; sizeBytes: number; token: string; tag: string; bumpRevision?: number; largestSeen?: number }) => {
      checkTag(input.tag);
      return trialRestore(ops, input.node, input.path, input.sizeBytes, input.token, input.tag, { requested: input.bumpRevision, largestSeen: input.largestSeen });
    }),

    /** Renames the trial restore into the data dir (etcd fenced, data dir moved aside). */
    installRestored: clusterActivity(deps, (ops, input: NodeInput & { tag: string }) => {
      checkTag(input.tag);
      return installRestored(ops, input.node, input.tag);
    }),

    /**
     * Undo of a restore or recovery before its point of no return, per node: a restored data dir
     * put in place by this run goes back to its scratch name, the data dir moved aside by this run
     * comes back, and etcd is unmasked and, if it ran before (`start`), started again.
     */
    unfence: clusterActivity(deps, async (ops, input: NodeInput & { tag: string; start: boolean }) => {
      checkTag(input.tag);
      const dir = ops.node(input.node).etcd.dataDir;
      const restoredHere = (await ops.run(input.node, ['test', '-f', `${dir}/.etcd-runbooks-restored-${input.tag}`])).exitCode === 0;
      const rt = runtimeOf(ops);
      const active = (await rt.state(input.node)) === 'active';
      if (active && input.start && !restoredHere) return { restarted: false, movedBack: false };
      if (active) await rt.stop(input.node);
      const r = await ops.runOk(input.node, shScript([
        'moved=no',
        'if [ -f "$1/.etcd-runbooks-restored-$4" ]; then mv -T -- "$1" "$3" && rm -f "$3/.etcd-runbooks-restored-$4"; fi',
        'if [ -d "$2" ]; then if [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; then rmdir "$1"; fi; [ -e "$1" ] || { mv -T -- "$2" "$1" && moved=yes; }; fi',
        'echo $moved',
      ].join('\n'), dir, `${dir}.aside-${input.tag}`, restoringDir(dir, input.tag), input.tag));
      if (input.start) await rt.start(input.node);
      else await rt.release(input.node);
      return { restarted: input.start, movedBack: r.stdout.trim() === 'yes' };
    }),

    /**
     * `etcd-runbooks cleanup`: finishes what a run left on a node that is not a member: stops and
     * disables etcd, removes a --force-new-cluster drop-in, moves a non-empty data dir aside. Refuses
     * while the node's member is in the cluster (that is remove-member's work).
     */
    cleanupNode: clusterActivity(deps, async (ops, input: NodeInput & { tag: string }) => {
      checkTag(input.tag);
      const spec = memberOf(ops, input.node);
      const state = await clusterState(ops);
      const m = state.members.find((x) => x.peerURLs.includes(spec.peerURL) || (x.name !== '' && x.name === spec.name));
      if (m) throw new PreconditionError(`${input.node}: member ${m.name || m.id} is in the cluster; use remove-member, not cleanup`);
      const rt = runtimeOf(ops);
      const todo = await rt.retire(input.node);
      const flag = await forceNewClusterFlag(ops, input.node);
      if (flag.dropIn) await rt.setForceNewCluster(input.node, false, false);
      const hadData = (await dataDirState(ops, input.node)) === 'nonempty';
      const movedTo = hadData ? await moveDataDirAside(ops, input.node, input.tag) : undefined;
      return { service: `${await rt.state(input.node)}${todo ? `; ${todo}` : ''}`, removedDropIn: flag.dropIn, ...(movedTo ? { movedTo } : {}) };
    }),
  };
}

/**
 * Bytes of the leader's database a joining member holds: the largest of its database file and the
 * snapshot files etcd writes under member/snap while one streams in (`tmp*` while receiving,
 * `<index>.snap.db` once received). 0 when there is none yet.
 */
async function receivedDbBytes(ops: ClusterOps, node: string): Promise<number> {
  const snap = `${ops.node(node).etcd.dataDir}/member/snap`;
  const r = await ops.run(node, shScript('for f in "$1"/db "$1"/tmp* "$1"/*.snap.db; do [ -f "$f" ] && stat -c %s -- "$f"; done; true', snap));
  return Math.max(0, ...r.stdout.split('\n').map(Number).filter(Number.isFinite));
}
