import { memberQuotaBytes } from '../domain/memberConfig';
import type { MemberSpec } from '../domain/members';
import type { NodeReadiness } from '../domain/expandPlan';
import type { ClusterOps } from './cluster';
import { CommandFailedError, PreconditionError, rethrowCancellation } from './errors';
import { addLearner, moveLeaderOff, moveLeaderTo, promoteLearner, removeMemberOfNode } from './etcd/membership';
import { clusterState, clusterStateOf, hashKV, memberList, type ClusterState } from './etcd/reads';
import { backupOnLeader, snapshotOnLeader, verifySnapshotFile } from './etcd/snapshot';
import { ensurePeerURL, startRestoredMember } from './etcd/single';
import { startMember } from './etcd/startMember';
import { backupDataDir, clearForceNewCluster, forceNewCluster, forceNewClusterFlag, memberEvidence, waitReachable } from './etcd/recovery';
import { copySnapshot, restoreDataDir } from './node/restore';
import { dataDirState, filesPresent, moveDataDirAside } from './node/dataDir';
import { runtimeOf } from './runtime';
import { clusterActivity, type ActivityDeps, type ClusterInput } from './wrap';
import { freeBytes } from './node/disk';
import { copyBackupOffNode } from './node/offNode';
import { drillNewestCopy } from './node/drill';
import { safetyActivities } from './safety';
import { memberStartTimeoutMs } from '../domain/scale';
import { clusterVersion, nodeEtcdTools } from './etcd/version';
import { kubeState } from './kube/state';
import { writeConfigMapEndpoints, writeFileEndpoints } from './kube/config';
import { regenerateApiserver } from './kube/regenerate';
import { runDoctor } from './doctor/run';

export type { ClusterInput } from './wrap';
export type { Step, CommandRecord } from './audit';
export type { ClusterState, MemberState } from './etcd/reads';
export type { SnapshotInfo, BackupInfo } from './etcd/snapshot';
export type { OffNodeCopy } from './node/offNode';
export type { DrillResult } from './node/drill';
export type { NodeReadiness } from '../domain/expandPlan';
export type { KubeState } from '../domain/kubeSync';
export type { DoctorRow, Verdict } from './doctor/checks';

/** Input of every per-node step. `node` is an inventory node name. */
export interface NodeInput extends ClusterInput { node: string }

function specOf(ops: ClusterOps, node: string): MemberSpec {
  const n = ops.node(node);
  return { node: n.name, name: n.etcd.memberName, peerURL: n.etcd.peerURL, clientURL: n.etcd.clientURL, dataDir: n.etcd.dataDir };
}

function memberOfNode(state: ClusterState, ops: ClusterOps, node: string) {
  const spec = specOf(ops, node);
  return state.members.find((m) => m.peerURLs.includes(spec.peerURL));
}

/**
 * The activities of etcd-runbooks, bound to a worker's inventories and SSH pool. Each is
 * idempotent (check, then act) and returns Step<T> (result + commands run, for the audit trail).
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...safetyActivities(deps),

    /** Members, per-member status and health, leader. Read-only. Source: reference 000 §3. */
    inspectCluster: clusterActivity(deps, async (ops) => {
      const view = await memberList(ops);
      // The cluster version is asked of the control node's own member while the statuses are read;
      // when that does not answer it, of each member that gave a status, in turn.
      const own = view.members.find((m) => m.name !== '' && m.peerURLs.includes(ops.node(view.control).etcd.peerURL));
      const early = own ? clusterVersion(ops, view.control, own.clientURLs.slice(0, 1), [], 1) : Promise.resolve(undefined);
      const [state, first] = await Promise.all([clusterStateOf(ops, view), early]);
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
              .then(async (present) => present || (ops.inv.runtime === 'kubeadm' && !(await filesPresent(ops, node, ['/etc/kubernetes/kubelet.conf'])))),
            rt.state(node),
            freeBytes(ops, node, spec.dataDir),
            nodeEtcdTools(ops, node),
            rt.joinProblem(node),
          ]);
          const etcdVersion = tools.server;
          return { spec, reachable: true, dataDirEmpty: dir !== 'nonempty', tlsFilesPresent, etcdActive: service === 'active', dataDirFreeBytes, ...(etcdVersion ? { etcdVersion } : {}), quotaBytes: memberQuotaBytes(ops.inv.memberSettings), ...(runtimeProblem ? { runtimeProblem } : {}) };
        } catch (e) {
          rethrowCancellation(e);
          if (['HostKeyMismatchError', 'UnknownNodeError'].includes((e as Error).name)) throw e;
          return { spec, reachable: false, dataDirEmpty: false, tlsFilesPresent: false, etcdActive: false, error: (e as Error).message };
        }
      }));
    }),

    /** Snapshot on the leader into the backup dir, integrity verified. Source: reference 000 §4. */
    takeSnapshot: clusterActivity(deps, (ops, input: ClusterInput & { label: string }) => snapshotOnLeader(ops, input.label)),

    /** `member add --learner` for the node's member, unless already present. Source: reference 000 §5. */
    addLearner: clusterActivity(deps, (ops, input: NodeInput) => addLearner(ops, input.node)),

    /**
     * Writes the joining member's configuration (initial cluster, state existing): the environment
     * file (systemd), or the static pod manifest's flags, or, on a node with no etcd manifest,
     * `kubeadm join --control-plane` (kubeadm; runtime/kubeadm.ts). Source: reference 004, 001.
     */
    writeMemberConfig: clusterActivity(deps, (ops, input: NodeInput & { initialCluster: string }) =>
      runtimeOf(ops).writeConfig(input.node, { initialCluster: input.initialCluster, initialClusterState: 'existing' })),

    /**
     * Starts etcd on the node and waits until its member has started (activities/etcd/startMember.ts).
     * Source: reference 000 §5; etcd docs "Runtime reconfiguration: add a new member".
     */
    startMember: clusterActivity(deps, (ops, input: NodeInput) => startMember(ops, input.node)),

    /** Waits until the learner's applied index reaches the leader's index at the start of the wait. */
    waitLearnerCaughtUp: clusterActivity(deps, async (ops, input: NodeInput) => {
      const first = await clusterState(ops);
      const leader = first.members.find((m) => m.isLeader);
      const target = leader?.status?.raftIndex ?? 0;
      let last = '';
      const dbBytes = leader?.status?.dbSize ?? 0;
      return ops.waitFor(`${input.node}: learner caught up`, memberStartTimeoutMs(dbBytes, 10 * 60_000), 500, async () => {
        const state = await clusterState(ops);
        const m = memberOfNode(state, ops, input.node);
        if (!m) throw new PreconditionError(`${input.node}: member disappeared from the member list`);
        if (!m.isLearner) return { caughtUp: true, appliedIndex: m.status?.raftAppliedIndex ?? 0, leaderIndex: target };
        const applied = m.status?.raftAppliedIndex ?? 0;
        last = `applied ${applied} of ${target}`;
        return applied >= target ? { caughtUp: true, appliedIndex: applied, leaderIndex: target } : undefined;
      }, () => last);
    }),

    /** Promotes the learner. "not in sync" is transient and retried by Temporal. Source: reference 000 §5. */
    promoteLearner: clusterActivity(deps, (ops, input: NodeInput) => promoteLearner(ops, input.node)),

    /** Waits until every started member is healthy, the node's member is a voter, and a leader is known. */
    waitClusterHealthy: clusterActivity(deps, async (ops, input: NodeInput) => {
      let last = '';
      return ops.waitFor(`${input.node}: cluster healthy`, 3 * 60_000, 1_000, async () => {
        const state = await clusterState(ops);
        const m = memberOfNode(state, ops, input.node);
        const sick = state.members.filter((x) => !x.healthy);
        last = sick.map((x) => `${x.name || x.id}: ${x.error}`).join('; ') || (!state.leader ? 'no leader' : m?.isLearner ? 'still a learner' : '');
        return m && !m.isLearner && sick.length === 0 && state.leader ? { voters: state.members.filter((x) => !x.isLearner).length, leader: state.leader } : undefined;
      }, () => last);
    }),

    /**
     * Checks that every member holds the same data: `endpoint hashkv` at one revision on all members.
     * Returns the state; throws if hashes differ or a member does not answer.
     */
    verifyCluster: clusterActivity(deps, async (ops) => {
      const state = await clusterState(ops);
      const leader = state.members.find((m) => m.isLeader);
      if (!leader?.status) throw new Error('no leader answered');
      const rev = leader.status.revision;
      const endpoints = state.members.flatMap((m) => m.clientURLs);
      const { hashes, stderr } = await hashKV(ops, state.control, endpoints, rev);
      if (hashes.length !== state.members.length) throw new Error(`hashkv answered for ${hashes.length} of ${state.members.length} members: ${stderr.trim().slice(-300)}`);
      const distinct = new Set(hashes.map((h) => h.hash));
      if (distinct.size !== 1) throw new Error(`members differ at revision ${rev}: ${hashes.map((h) => `${h.endpoint}=${h.hash}`).join(', ')}`);
      return { state, revision: rev, hash: hashes[0].hash };
    }),

    /** Backup with retention: `<cluster>-<member>-rev<revision>-<stamp>.db`, newest `keep` kept. */
    takeBackup: clusterActivity(deps, (ops, input: ClusterInput & { stamp: string; keep: number }) => backupOnLeader(ops, input.stamp, input.keep)),

    /** Streams a backup to the inventory's backup host, SHA-256 checked, with its retention (node/offNode.ts). */
    copyBackupOffNode: clusterActivity(deps, (ops, input: NodeInput & { path: string; sizeBytes: number }) => copyBackupOffNode(ops, input.node, input.path, input.sizeBytes)),

    /** Restore drill of the newest off-node copy on the backup host (node/drill.ts). */
    drillNewestCopy: clusterActivity(deps, (ops) => drillNewestCopy(ops)),

    /** Makes the node's member the leader (move-leader sent to the current leader). */
    moveLeaderTo: clusterActivity(deps, (ops, input: NodeInput) => moveLeaderTo(ops, input.node)),

    /** Moves leadership away from the node's member if it leads; no-op otherwise. */
    moveLeaderOff: clusterActivity(deps, (ops, input: NodeInput) => moveLeaderOff(ops, input.node)),

    /** Checks a snapshot file on a node (SHA-256 trailer, `snapshot status`). Read-only; a bad file is a verdict, not an error. */
    verifySnapshot: clusterActivity(deps, async (ops, input: NodeInput & { path: string }) => {
      try {
        return { ok: true as const, info: await verifySnapshotFile(ops, input.node, input.path) };
      } catch (e) {
        if (e instanceof CommandFailedError) return { ok: false as const, error: e.message };
        throw e;
      }
    }),

    /** Streams a snapshot to another node's backup dir (bytes and rate in heartbeats), verified there; free disk checked first. */
    copySnapshot: clusterActivity(deps, (ops, input: ClusterInput & { from: string; path: string; to: string }) => copySnapshot(ops, input.from, input.path, input.to)),

    /**
     * Fences etcd on the node so nothing starts it during a restore or recovery: stopped, disabled
     * and runtime-masked (systemd), or its manifest moved out of the manifests dir (kubeadm).
     * Source: reference 003 (etcd must not come up before the restore); 000 §8.4; 001.
     */
    fenceMember: clusterActivity(deps, async (ops, input: NodeInput) => {
      const rt = runtimeOf(ops);
      await rt.fence(input.node);
      return { service: await rt.state(input.node), fence: rt.fenced };
    }),

    /** Restores the snapshot into the node's data dir (via a temporary dir) with a fresh cluster token. */
    restoreDataDir: clusterActivity(deps, (ops, input: NodeInput & { path: string; token: string; tag: string }) => restoreDataDir(ops, input.node, input.path, input.token, input.tag)),

    /** Starts the restored member as a new 1-member cluster and waits until it serves. */
    startRestoredMember: clusterActivity(deps, (ops, input: NodeInput & { token: string }) => startRestoredMember(ops, input.node, input.token)),

    /** Makes the member advertise the inventory's peer URL (reference 002: restored members may advertise localhost). */
    ensurePeerURL: clusterActivity(deps, (ops, input: NodeInput) => ensurePeerURL(ops, input.node)),

    /** Raft term/index/revision of each node's member, from its status or its data files. Read-only. */
    gatherEvidence: clusterActivity(deps, async (ops, input: ClusterInput & { nodes: string[] }) => {
      const out = [];
      for (const node of input.nodes) out.push(await memberEvidence(ops, node));
      return out;
    }),

    /** Copies the node's data dir to `<dataDir>.backup-<tag>`; keeps the original. */
    backupDataDir: clusterActivity(deps, (ops, input: NodeInput & { tag: string }) => backupDataDir(ops, input.node, input.tag)),

    /** Restarts the node's etcd with --force-new-cluster (drop-in) and waits for a 1-member cluster. */
    forceNewCluster: clusterActivity(deps, (ops, input: NodeInput) => forceNewCluster(ops, input.node)),

    /** Removes the --force-new-cluster drop-in, restarts, and checks the process no longer has the flag. */
    clearForceNewCluster: clusterActivity(deps, (ops, input: NodeInput) => clearForceNewCluster(ops, input.node)),

    /** Whether the node's etcd unit or process carries --force-new-cluster. Read-only. */
    forceNewClusterFlag: clusterActivity(deps, (ops, input: NodeInput) => forceNewClusterFlag(ops, input.node)),

    /** Waits (heartbeating) until the node answers over SSH. */
    waitReachable: clusterActivity(deps, (ops, input: NodeInput & { timeoutSeconds: number }) => waitReachable(ops, input.node, input.timeoutSeconds * 1000)),

    /** Compensation: removes the node's member if present (never the leader). */
    removeMember: clusterActivity(deps, (ops, input: NodeInput) => removeMemberOfNode(ops, input.node)),

    /**
     * Compensation, and the last step of a removal: stops etcd on a node whose member is out so that
     * nothing starts it again (runtime `retire`). `service` is its state, followed by what the
     * operator still has to do on the node, if anything (kubeadm: reset the stopped control plane).
     */
    stopMember: clusterActivity(deps, async (ops, input: NodeInput) => {
      const rt = runtimeOf(ops);
      const todo = await rt.retire(input.node);
      return { service: `${await rt.state(input.node)}${todo ? `; ${todo}` : ''}` };
    }),

    /**
     * The control plane next to the members: the endpoints the voting members offer, the
     * kubeadm-config ConfigMap, and each control-plane node's running apiserver (via containerd),
     * /readyz, kubeadm config file and manifest. `enabled` false without a kubernetes section. Read-only.
     */
    inspectKube: clusterActivity(deps, (ops) => kubeState(ops)),

    /** `doctor`: every node checked before any runbook, one row per check with its fix (doctor/run.ts). Read-only. */
    doctorCluster: clusterActivity(deps, (ops) => runDoctor(ops)),

    /** Sets etcd.external.endpoints of the kubeadm-config ConfigMap with kubectl on `via`, a control-plane node whose apiserver is ready. */
    writeKubeConfigMap: clusterActivity(deps, async (ops, input: ClusterInput & { endpoints: string[]; via: string }) => ({
      via: input.via, ...(await writeConfigMapEndpoints(ops, input.via, input.endpoints)),
    })),

    /** Sets etcd.external.endpoints in the node's kubeadm config file (the rest of the file kept). */
    writeKubeadmConfigFile: clusterActivity(deps, (ops, input: NodeInput & { endpoints: string[] }) => writeFileEndpoints(ops, input.node, input.endpoints)),

    /** Regenerates the node's apiserver manifest with kubeadm and waits for the new pod (kube/regenerate.ts). */
    regenerateApiserver: clusterActivity(deps, (ops, input: NodeInput & { endpoints: string[] }) => regenerateApiserver(ops, input.node, input.endpoints)),

    /** Compensation: moves the node's data dir aside to `<dataDir>.aside-<tag>`; never deletes. */
    moveDataDirAside: clusterActivity(deps, async (ops, input: NodeInput & { tag: string }) => {
      if (!/^[A-Za-z0-9._-]+$/.test(input.tag)) throw new PreconditionError(`bad tag ${JSON.stringify(input.tag)}`);
      if ((await runtimeOf(ops).state(input.node)) === 'active') throw new PreconditionError(`${input.node}: etcd is running; stop it before moving its data dir`);
      return { movedTo: await moveDataDirAside(ops, input.node, input.tag) };
    }),
  };
}

/** The activity interface the workflows import as a type. */
export type Activities = ReturnType<typeof createActivities>;
