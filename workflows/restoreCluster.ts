import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { RestoreInputSchema, type RestoreInput } from '../domain/inputs';
import { describeLiveness, judgeQuorum } from '../domain/liveness';
import type { ApprovalRecord, Leftover } from '../domain/progress';
import { changes, long, reads, undo } from './proxies';
import { addMemberPhases } from './memberSteps';
import { verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { KUBE_SAFE_POINT, kubePhases, planKubeSync } from './kubeSync';

export interface RestoreResult {
  restoredOn: string;
  clusterId: string;
  previousClusterIds: string[];
  snapshotRevision: number;
  /** The largest revision any member reported at pre-flight (what clients may have seen); 0 if none served. */
  liveRevisionBefore?: number;
  /** Revisions added on top of the snapshot's by `--bump-revision` (0: none), and why. */
  revisionBump?: number;
  revisionBumpWhy?: string;
  /** The restored member's revision when it first served (snapshot revision + bump). */
  restoredRevision?: number;
  /** Revision at the final hashkv check. */
  revision: number;
  members: string[];
  approvals: ApprovalRecord[];
}

const WAL = 64 * 1024 * 1024;
const RECOVERY = 'etcd docs "Disaster recovery" (https://etcd.io/docs/v3.5/op-guide/recovery/)';

/**
 * Disaster restore from a snapshot file. Everything that can fail runs while the cluster still
 * serves: the snapshot's integrity on its node; every member's node answering SSH (each must be
 * fenced); the snapshot streamed to the restore node and verified there; free disk on every
 * member's data dir; a trial restore into a scratch dir beside the data dir. Only then, after
 * approval, is etcd fenced on every node (stopped, disabled, masked: an empty etcd must never come
 * up where Kubernetes would take it as the desired state) and every data dir moved aside (never
 * deleted); the trial restore is renamed into place on the restore node and started as a new
 * 1-member cluster with a fresh cluster token; its peer URL is checked; the others join one at a
 * time as learners and are promoted.
 * Point of no return: the restored member serving at the snapshot's revision. A failure or cancel
 * before it puts every data dir back and starts etcd again where it ran (the cluster as it was);
 * after it, the run stops with the restored cluster serving and says which members still need
 * `add-member`. Source: reference 000 §8.4; 001 (restore then join); 002 (localhost peer URL);
 * 003 (fence first, ownership); etcd docs "Disaster recovery".
 */
export async function restoreCluster(raw: RestoreInput): Promise<RestoreResult | DryRunResult> {
  const { input, base, tracker, gate } = startRunbook('restoreCluster', RestoreInputSchema, raw);
  const restoreOn = input.restoreOn ?? input.members[0];
  const others = input.members.filter((n) => n !== restoreOn);
  const tag = runTag('restore', workflowInfo().runId);
  const token = `${input.cluster}-${tag}`;
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight: snapshot integrity; every member node answers SSH; etcd liveness of each member', status: 'running' }]);

  const check = (await long.verifySnapshot({ ...base, node: input.snapshot.node, path: input.snapshot.path })).result;
  const liveness = (await reads.probeLiveness({ ...base, nodes: input.members })).result;
  tracker.progress.liveness = liveness.map(describeLiveness);
  const problems: string[] = [];
  if (!check.ok) problems.push(`snapshot ${input.snapshot.node}:${input.snapshot.path} failed its integrity check: ${check.error}`);
  for (const m of liveness) if (!m.ssh.ok) problems.push(`${m.node} does not answer over SSH (${describeLiveness(m)}); every member's node must be fenced before a restore`);
  // etcd being down is why a restore runs: the apiservers need not be ready before it.
  const kube = await planKubeSync(base, { requireReady: false });
  if (problems.length || !check.ok) refuse(tracker, problems);
  // Every revision is at most one raft entry: the largest raft index or revision seen bounds how far
  // clients may have read past the snapshot (domain/revisionBump.ts).
  const liveRevisionBefore = Math.max(0, ...liveness.map((m) => m.status?.revision ?? 0));
  const largestSeen = Math.max(liveRevisionBefore, ...liveness.map((m) => m.status?.raftIndex ?? 0));
  const evidence = (await reads.gatherEvidence({ ...base, nodes: input.members })).result;
  const wasActive = new Map(evidence.map((x) => [x.node, x.etcdActive]));
  const { fencing, liftFence } = evidence[0].runtime;
  const snap = check.info;
  const before = 'before fencing';
  let localPath = '';
  let bump = { bump: 0, why: '' };
  let restoredRevision = 0;
  let verified = { clusterId: '', revision: 0, members: [] as string[] };
  const fence = (n: string): Phase => ({
    id: `fence:${n}`, title: `${n}: ${fencing}`, node: n, source: `reference 003 §6.1 (fence first); ${RECOVERY}`,
    ...(n === input.members[0] ? { approval: { step: 'fence', question: () => `${fencing} on ${input.members.join(', ')}, move their data dirs aside and start ${restoreOn} as a new cluster from ${input.snapshot.path} (${describeBump(snap.revision, bump.bump)}): the cluster is down until the restored member serves` } } : {}),
    undo: [{
      id: `unfence:${n}`, title: `${n}: put its own data dir back, unmask etcd${wasActive.get(n) ? ' and start it' : ''}`, node: n, side: 'node',
      run: async () => {
        const r = (await undo.unfence({ ...base, node: n, tag, start: wasActive.get(n) ?? false })).result;
        return `${r.movedBack ? 'data dir back' : 'data dir in place'}${r.restarted ? ', etcd started' : ''}`;
      },
      leftover: { what: `etcd fenced; its data dir may still be at <data dir>.aside-${tag}`, fix: `move <data dir>.aside-${tag} back to the data dir, then lift the fence (${liftFence}) and start it` },
    }],
    members: (m) => ({ ...m, serving: Math.max(0, m.serving - 1) }),
    run: async () => {
      const r = (await changes.fenceMember({ ...base, node: n })).result;
      return `etcd ${r.service}, ${r.fence ?? 'masked'}`;
    },
  });
  const healthy: string[] = [];
  const joined = () => [restoreOn, ...healthy];
  const phases: Phase[] = [
    {
      id: 'copy-snapshot', title: `stream the snapshot to ${restoreOn} and verify it there`, node: restoreOn, source: 'reference 000 §8.4 (copy the snapshot to the restore node)', refuses: before,
      run: async () => {
        const c = (await long.copySnapshot({ ...base, from: input.snapshot.node, path: input.snapshot.path, to: restoreOn })).result;
        localPath = c.path;
        return `${restoreOn}:${c.path} verified${c.copiedBytes ? `, ${c.copiedBytes} bytes streamed` : ''}`;
      },
    },
    {
      id: 'check-disk', title: 'free disk on every member node for the restored data and the WAL', source: 'reference 002 (disk space); etcd docs "Hardware recommendations"', refuses: before,
      run: async () => {
        const disk = (await reads.checkDisk({
          ...base, needs: input.members.map((n) => ({ node: n, dir: 'dataDir' as const, needBytes: Math.ceil(snap.sizeBytes * 1.1) + WAL, why: n === restoreOn ? 'the restored data dir' : 'the data it receives as a learner' })),
        })).result;
        const short = disk.filter((d) => !d.ok);
        if (short.length) refuse(tracker, short.map((d) => `${d.node}: ${(d.freeBytes / 2 ** 20).toFixed(1)} MiB free at ${d.path}, needs ${(d.needBytes / 2 ** 20).toFixed(1)} MiB for ${d.why}`));
        return disk.map((x) => `${x.node} ${(x.freeBytes / 2 ** 20).toFixed(0)} MiB free`).join(', ');
      },
    },
    {
      id: 'trial-restore', title: `${restoreOn}: trial restore into a scratch dir beside the data dir (the cluster still serves)`, node: restoreOn, source: `${RECOVERY} (etcdutl snapshot restore); domain/revisionBump.ts`, refuses: before,
      run: async () => {
        const r = (await long.trialRestore({
          ...base, node: restoreOn, path: localPath, sizeBytes: snap.sizeBytes, token, tag, largestSeen,
          ...(input.bumpRevision !== undefined ? { bumpRevision: input.bumpRevision } : {}),
        })).result;
        bump = { bump: r.bump ?? 0, why: r.bumpWhy ?? '' };
        return `${r.dir} ${r.restored ? 'restored' : 'already restored'}${r.tool ? ` with ${r.tool}` : ''}; ${describeBump(snap.revision, r.bump ?? 0, r.bumpWhy)}`;
      },
    },
    ...input.members.map(fence),
    ...input.members.map((n): Phase => ({
      id: `move-aside:${n}`, title: `${n}: move the data dir aside`, node: n, source: 'reference 002, 004 (move the old data dir aside, never delete it)',
      run: async () => {
        const r = (await changes.moveDataDirAside({ ...base, node: n, tag })).result;
        return r.movedTo ? `moved to ${r.movedTo}` : 'no data to move';
      },
    })),
    {
      id: `install:${restoreOn}`, title: `${restoreOn}: rename the trial restore into the data dir`, node: restoreOn, source: RECOVERY,
      run: async () => {
        const r = (await changes.installRestored({ ...base, node: restoreOn, tag })).result;
        return `${r.dataDir} ${r.installed ? 'in place' : 'already in place'}`;
      },
    },
    {
      id: `start-restored:${restoreOn}`, title: `${restoreOn}: start as a new 1-member cluster, verify the revision (point of no return)`, node: restoreOn, source: `reference 000 §8.4; ${RECOVERY}`,
      pointOfNoReturn: 'done',
      members: () => ({ voters: 1, serving: 1 }),
      safePoint: () => ({
        where: `past the point of no return: the restored cluster serves on ${joined().join(', ')}`,
        leftovers: others.filter((n) => !joined().includes(n)).map((n): Leftover => ({ node: n, what: 'not a member of the restored cluster (etcd fenced or stopped, old data moved aside)', fix: `etcd-runbooks cleanup --node ${n} && etcd-runbooks add-member --node ${n}` })),
      }),
      run: async () => {
        const v = (await long.startRestoredMember({ ...base, node: restoreOn, token })).result;
        restoredRevision = v.status.revision;
        if (v.status.revision < snap.revision + bump.bump) throw ApplicationFailure.nonRetryable(`${restoreOn}: restored revision ${v.status.revision} is below the snapshot's ${snap.revision} plus the bump ${bump.bump}`, 'InvariantViolated');
        return `cluster ${v.clusterId}, revision ${v.status.revision}`;
      },
    },
    {
      id: `peer-url:${restoreOn}`, title: `${restoreOn}: check and fix the advertised peer URL`, node: restoreOn, source: 'reference 002 (a restored member advertises localhost); etcdctl member update',
      run: async () => {
        const r = (await changes.ensurePeerURL({ ...base, node: restoreOn })).result;
        return r.updated ? `was ${r.before.join(',')}; fixed` : 'correct';
      },
    },
    ...others.flatMap((n) => addMemberPhases(tracker, base, n, tag, () => { healthy.push(n); }).map((p) => ({ ...p, undo: undefined }))),
    verifyPhase(base, 'all members voting, healthy, equal hashkv', (r) => { verified = { clusterId: r.clusterId, revision: r.revision, members: r.members.map((m) => m.name).sort() }; }),
    ...kubePhases(tracker, base, kube, KUBE_SAFE_POINT),
  ];
  tracker.setSteps([{ ...tracker.step('preflight'), status: 'done', detail: `snapshot revision ${snap.revision}, ${snap.totalKeys} keys, ${snap.sizeBytes} bytes` }, ...planOf(phases)]);
  const q = judgeQuorum(liveness);
  if (input.dryRun) return planOnly(tracker, phases, { voters: q.voters, serving: q.answering.length });
  tracker.progress.outcome = 'running';
  // Everything that can fail before the point of no return runs first, while the cluster serves.
  await runPhases(tracker, gate, phases, () => 'every fenced member got its own data dir back and etcd was started again where it ran');
  tracker.progress.outcome = 'completed';
  return {
    restoredOn: restoreOn, clusterId: verified.clusterId,
    previousClusterIds: [...new Set(evidence.flatMap((e) => (e.clusterId ? [e.clusterId] : [])))],
    snapshotRevision: snap.revision, liveRevisionBefore, revisionBump: bump.bump, ...(bump.why ? { revisionBumpWhy: bump.why } : {}),
    restoredRevision, revision: verified.revision,
    members: verified.members, approvals: tracker.progress.approvals,
  };
}

/** `revision 201, bumped by 1000000000 to 1000000201 (marked compacted; why)` or `revision 201, no bump (why)`. */
function describeBump(snapshotRevision: number, bump: number, why?: string): string {
  const reason = why ? `; ${why}` : '';
  return bump > 0 ? `revision ${snapshotRevision}, bumped by ${bump} to ${snapshotRevision + bump} (marked compacted${reason})` : `revision ${snapshotRevision}, no bump${why ? ` (${why})` : ''}`;
}
