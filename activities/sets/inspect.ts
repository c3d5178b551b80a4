import { memberQuotaBytes } from '../../domain/memberConfig';
import type { NodeReadiness } from '../../domain/expandPlan';
import type { RuntimeTexts, MemberEvidence } from '../../domain/recovery';
import { PreconditionError, WaitTimeoutError, rethrowCancellation } from '../errors';
import { clusterState, clusterStateOf, hashKV, ownURLs, readMembers } from '../etcd/reads';
import { forceNewClusterFlag, memberEvidence } from '../etcd/recovery';
import { dataDirState, filesPresent } from '../node/dataDir';
import { runtimeOf } from '../runtime';
import { clusterActivity, type ActivityDeps, type ClusterInput } from '../wrap';
import { freeBytes, checkDisk, type DiskNeed } from '../node/disk';
import { clusterVersion, nodeEtcdTools } from '../etcd/version';
import { runDoctor } from '../doctor/run';
import { probeLiveness, sshAnswers, viewFromSurvivor } from '../etcd/liveness';
import { type NodeInput, specOf } from './common';

/** The activities of reads that change nothing: the cluster, nodes to add, evidence for recovery, liveness from etcd and SSH apart, disk, doctor. */
export function inspectActivities(deps: ActivityDeps) {
  return {
    /** Members, per-member status and health, leader. Read-only. Source: reference 000 §3. */
    inspectCluster: clusterActivity(deps, async (ops) => {
      const read = await readMembers(ops, true);
      const view = read.view;
      // The cluster version is asked of the control node's own member while the statuses are read;
      // when that does not answer it, of each member that gave a status, in turn.
      const own = view.members.find((m) => m.name !== '' && m.peerURLs.includes(ops.node(view.control).etcd.peerURL));
      const early = own ? clusterVersion(ops, view.control, own.clientURLs.slice(0, 1), [], 1) : Promise.resolve(undefined);
      const [state, first] = await Promise.all([clusterStateOf(ops, view, read), early]);
      const serving = state.members.filter((m) => m.status);
      const cv = first?.source === 'etcd' ? first : await clusterVersion(ops, state.control, serving.flatMap((m) => m.clientURLs), serving.map((m) => m.status?.version ?? ''));
      return { ...state, ...(cv ? { clusterVersion: cv } : {}) };
    }),

    /** Pre-flight for nodes to add: SSH reachable, TLS files present, etcd not running, data dir empty, the runtime can start a member there. Read-only. */
    inspectNodes: clusterActivity(deps, async (ops, input: ClusterInput & { nodes: string[] }) => {
      const t = ops.inv.tls;
      const rt = runtimeOf(ops);
      // Each node's reads are independent of each other and of other nodes': all at once.
      return Promise.all(input.nodes.map(async (node): Promise<NodeReadiness> => {
        const spec = specOf(ops, node);
        try {
          const [dir, tlsFilesPresent, service, dataDirFreeBytes, tools, runtimeProblem] = await Promise.all([
            dataDirState(ops, node),
            filesPresent(ops, node, [t.caFile, t.serverCertFile, t.serverKeyFile, t.peerCertFile, t.peerKeyFile, t.clientCertFile, t.clientKeyFile])
              // A node that joins with kubeadm gets the kubeadm PKI from the join itself.
              .then(async (present) => present || rt.pkiFromJoin(node)),
            rt.state(node),
            freeBytes(ops, node, spec.dataDir),
            nodeEtcdTools(ops, node),
            rt.joinProblem(node),
          ]);
          const etcdVersion = tools.server;
          return { spec, reachable: true, dataDirEmpty: dir !== 'nonempty', tlsFilesPresent, etcdActive: service === 'running', dataDirFreeBytes, ...(etcdVersion ? { etcdVersion } : {}), quotaBytes: memberQuotaBytes(ops.inv.memberSettings), ...(runtimeProblem ? { runtimeProblem } : {}) };
        } catch (e) {
          rethrowCancellation(e);
          if (['HostKeyMismatchError', 'UnknownNodeError'].includes((e as Error).name)) throw e;
          return { spec, reachable: false, dataDirEmpty: false, tlsFilesPresent: false, etcdActive: false, error: (e as Error).message };
        }
      }));
    }),

    /**
     * Checks that every member holds the same data: `endpoint hashkv` at one revision (the leader's)
     * on all members. etcd hashes a member restarted since the last compaction differently from the
     * others at exactly the compacted revision (seen on 3.6.16: `--rev=<compacted>` differs, one
     * revision later agrees; etcd issues 14457, 18337): when they differ there, the check waits up
     * to 30 s for a newer revision (a live cluster writes) and compares at it. Returns the state;
     * throws if hashes differ or a member does not answer.
     */
    verifyCluster: clusterActivity(deps, async (ops) => {
      const at = async () => {
        const state = await clusterState(ops);
        const leader = state.members.find((m) => m.isLeader);
        if (!leader?.status) throw new Error('no leader answered');
        const rev = leader.status.revision;
        const { hashes, stderr } = await hashKV(ops, state.control, ownURLs(state, state.members), rev);
        if (hashes.length !== state.members.length) throw new Error(`hashkv answered for ${hashes.length} of ${state.members.length} members: ${stderr.trim().slice(-300)}`);
        return { state, rev, hashes, same: new Set(hashes.map((h) => h.hash)).size === 1 };
      };
      let r = await at();
      const first = r;
      if (!r.same && r.hashes.every((h) => h.compactRevision === first.rev)) {
        r = await ops.waitFor(`a revision written after the compacted revision ${first.rev}`, 30_000, 1_000, async () => {
          const next = await at();
          return next.rev > first.rev ? next : undefined;
        }, () => 'none written').catch((e: unknown) => {
          if (e instanceof WaitTimeoutError) throw new PreconditionError(`members' hashes differ at revision ${first.rev}, their compacted revision, and nothing was written after it within 30 s: etcd hashes a member restarted since that compaction differently there (etcd issues 14457, 18337); compare after the next write: etcdctl endpoint hashkv --rev=<a later revision>`);
          throw e;
        });
      }
      if (!r.same) throw new Error(`members differ at revision ${r.rev}: ${r.hashes.map((h) => `${h.endpoint}=${h.hash}`).join(', ')}`);
      return { state: r.state, revision: r.rev, hash: r.hashes[0].hash, ...(r !== first ? { differedAtCompacted: first.rev } : {}) };
    }),

    /** Raft term/index/revision of each node's member, from its status or its data files, with the runtime's words for its fence. Read-only. */
    gatherEvidence: clusterActivity(deps, async (ops, input: ClusterInput & { nodes: string[] }) => {
      const { texts } = runtimeOf(ops);
      const out: (MemberEvidence & { runtime: RuntimeTexts })[] = [];
      for (const node of input.nodes) out.push({ ...(await memberEvidence(ops, node)), runtime: texts });
      return out;
    }),

    /** `doctor`: every node checked before any runbook, one row per check with its fix (doctor/run.ts). Read-only. */
    doctorCluster: clusterActivity(deps, (ops) => runDoctor(ops)),

    /** Per node (default: every inventory node): SSH, and etcd asked from every node that answers and TCP from the worker. Read-only. */
    probeLiveness: clusterActivity(deps, (ops, input: ClusterInput & { nodes?: string[] }) => probeLiveness(ops, input.nodes?.length ? input.nodes : ops.inv.nodes.map((n) => n.name))),

    /** From the survivor's node and the worker: does each other member still answer (client status, peer port)? Read-only. */
    viewFromSurvivor: clusterActivity(deps, (ops, input: NodeInput & { others: string[] }) => viewFromSurvivor(ops, input.node, input.others)),

    /** Whether etcd runs on the node (MemberState: running, starting, stopped, failed). Read-only. */
    etcdServiceState: clusterActivity(deps, async (ops, input: NodeInput) => ({ service: await runtimeOf(ops).state(input.node) })),

    /** One SSH probe of the node (8 s). For waits that the workflow keeps as timers. */
    checkReachable: clusterActivity(deps, async (ops, input: NodeInput) => {
      const r = await sshAnswers(ops, input.node);
      return r.ok ? { reachable: true } : { reachable: false, error: r.error };
    }),

    /** Free disk for each need (node, path, bytes). Read-only. */
    checkDisk: clusterActivity(deps, (ops, input: ClusterInput & { needs: DiskNeed[] }) => checkDisk(ops, input.needs)),

    /** Whether the node's etcd unit or process carries --force-new-cluster. Read-only. */
    forceNewClusterFlag: clusterActivity(deps, (ops, input: NodeInput) => forceNewClusterFlag(ops, input.node)),
  };
}
