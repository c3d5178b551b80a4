import { ApplicationFailure, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { RestoreInputSchema, type RestoreInput } from '../domain/inputs';
import { describeLiveness } from '../domain/liveness';
import { addMemberSteps } from '../domain/memberSteps';
import type { ApprovalRecord, Leftover, PlanStep } from '../domain/progress';
import { changes, long, reads, undo } from './proxies';
import { addMember } from './memberSteps';
import { compensate, endAfterCompensation, stopAtSafePoint } from './compensation';
import { NEVER_WORSE, refuse, runTag, startRunbook } from './runbook';
import { errorMessage } from './steps';
import { restoreClusterV1 } from './v1/restoreCluster';
import { finishWithKubeSync, kubePlanSteps, planKubeSync } from './kubeSync';

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
export async function restoreCluster(raw: RestoreInput): Promise<RestoreResult> {
  if (!patched(NEVER_WORSE)) return restoreClusterV1(raw);
  const { input, base, tracker, gate } = startRunbook('restoreCluster', RestoreInputSchema, raw);
  const restoreOn = input.restoreOn ?? input.members[0];
  const others = input.members.filter((n) => n !== restoreOn);
  const tag = runTag('restore', workflowInfo().runId);
  const token = `${input.cluster}-${tag}`;
  const step = (id: string, title: string, node?: string): PlanStep => ({ id, title, ...(node ? { node } : {}), status: 'pending' });
  tracker.setSteps([
    { id: 'preflight', title: 'pre-flight: snapshot integrity; every member node answers SSH; etcd liveness of each member', status: 'running' },
    step('copy-snapshot', `stream the snapshot to ${restoreOn} and verify it there`, restoreOn),
    step('check-disk', 'free disk on every member node for the restored data and the WAL'),
    step('trial-restore', `${restoreOn}: trial restore into a scratch dir beside the data dir (the cluster still serves)`, restoreOn),
    ...input.members.map((n) => step(`fence:${n}`, `${n}: stop, disable and mask etcd`, n)),
    ...input.members.map((n) => step(`move-aside:${n}`, `${n}: move the data dir aside`, n)),
    step(`install:${restoreOn}`, `${restoreOn}: rename the trial restore into the data dir`, restoreOn),
    step(`start-restored:${restoreOn}`, `${restoreOn}: start as a new 1-member cluster, verify the revision (point of no return)`, restoreOn),
    step(`peer-url:${restoreOn}`, `${restoreOn}: check and fix the advertised peer URL`, restoreOn),
    ...others.flatMap(addMemberSteps),
    step('verify', 'verify: all members voting, healthy, equal hashkv'),
  ]);

  const check = (await long.verifySnapshot({ ...base, node: input.snapshot.node, path: input.snapshot.path })).result;
  const liveness = (await reads.probeLiveness({ ...base, nodes: input.members })).result;
  tracker.progress.liveness = liveness.map(describeLiveness);
  const problems: string[] = [];
  if (!check.ok) problems.push(`snapshot ${input.snapshot.node}:${input.snapshot.path} failed its integrity check: ${check.error}`);
  for (const m of liveness) if (!m.ssh.ok) problems.push(`${m.node} does not answer over SSH (${describeLiveness(m)}); every member's node must be fenced before a restore`);
  // etcd being down is why a restore runs: the apiservers need not be ready before it.
  const kube = await planKubeSync(base, { requireReady: false });
  tracker.setSteps([...tracker.progress.steps, ...kubePlanSteps(kube)]);
  if (problems.length || !check.ok) refuse(tracker, problems);
  // Every revision is at most one raft entry: the largest raft index or revision seen bounds how far
  // clients may have read past the snapshot (domain/revisionBump.ts).
  const liveRevisionBefore = Math.max(0, ...liveness.map((m) => m.status?.revision ?? 0));
  const largestSeen = Math.max(liveRevisionBefore, ...liveness.map((m) => m.status?.raftIndex ?? 0));
  const evidence = (await reads.gatherEvidence({ ...base, nodes: input.members })).result;
  tracker.step('preflight').status = 'done';
  tracker.step('preflight').detail = `snapshot revision ${check.info.revision}, ${check.info.totalKeys} keys, ${check.info.sizeBytes} bytes`;
  const snap = check.info;
  tracker.progress.outcome = 'running';

  // Everything that can fail before the point of no return runs here, while the cluster serves.
  let bump = { bump: 0, why: '' };
  try {
    const local = await tracker.run('copy-snapshot', async () => (await long.copySnapshot({ ...base, from: input.snapshot.node, path: input.snapshot.path, to: restoreOn })).result,
      (c) => `${restoreOn}:${c.path} verified${c.copiedBytes ? `, ${c.copiedBytes} bytes streamed` : ''}`);
    const disk = await tracker.run('check-disk', async () => (await reads.checkDisk({
      ...base, needs: input.members.map((n) => ({ node: n, dir: 'dataDir' as const, needBytes: Math.ceil(snap.sizeBytes * 1.1) + WAL, why: n === restoreOn ? 'the restored data dir' : 'the data it receives as a learner' })),
    })).result, (d) => d.map((x) => `${x.node} ${(x.freeBytes / 2 ** 20).toFixed(0)} MiB free`).join(', '));
    const short = disk.filter((d) => !d.ok);
    if (short.length) refuse(tracker, short.map((d) => `${d.node}: ${(d.freeBytes / 2 ** 20).toFixed(1)} MiB free at ${d.path}, needs ${(d.needBytes / 2 ** 20).toFixed(1)} MiB for ${d.why}`));
    const trial = await tracker.run('trial-restore', async () => (await long.trialRestore({
      ...base, node: restoreOn, path: local.path, sizeBytes: snap.sizeBytes, token, tag, largestSeen,
      ...(input.bumpRevision !== undefined ? { bumpRevision: input.bumpRevision } : {}),
    })).result, (r) => `${r.dir} ${r.restored ? 'restored' : 'already restored'}${r.tool ? ` with ${r.tool}` : ''}; ${describeBump(snap.revision, r.bump ?? 0, r.bumpWhy)}`);
    bump = { bump: trial.bump ?? 0, why: trial.bumpWhy ?? '' };
  } catch (e) {
    if ((e as { type?: string }).type === 'PreflightFailed') throw e;
    if (isCancellation(e)) endAfterCompensation(tracker, e, 'nothing was changed (no member was fenced)', []);
    refuse(tracker, [`before fencing: ${errorMessage(e)}`]);
  }
  await gate.require('fence', `stop and mask etcd on ${input.members.join(', ')}, move their data dirs aside and start ${restoreOn} as a new cluster from ${input.snapshot.path} (${describeBump(snap.revision, bump.bump)}): the cluster is down until the restored member serves`);
  const fenced: string[] = [];
  let restoredRevision = 0;
  try {
    for (const n of input.members) {
      fenced.push(n);
      await tracker.run(`fence:${n}`, async () => (await changes.fenceMember({ ...base, node: n })).result, (r) => `etcd ${r.service}, ${r.fence ?? 'masked'}`);
    }
    for (const n of input.members) {
      await tracker.run(`move-aside:${n}`, async () => (await changes.moveDataDirAside({ ...base, node: n, tag })).result, (r) => (r.movedTo ? `moved to ${r.movedTo}` : 'no data to move'));
    }
    await tracker.run(`install:${restoreOn}`, async () => (await changes.installRestored({ ...base, node: restoreOn, tag })).result, (r) => `${r.dataDir} ${r.installed ? 'in place' : 'already in place'}`);
    const started = await tracker.run(`start-restored:${restoreOn}`, async () => (await long.startRestoredMember({ ...base, node: restoreOn, token })).result,
      (v) => `cluster ${v.clusterId}, revision ${v.status.revision}`);
    restoredRevision = started.status.revision;
    if (started.status.revision < snap.revision + bump.bump) throw ApplicationFailure.nonRetryable(`${restoreOn}: restored revision ${started.status.revision} is below the snapshot's ${snap.revision} plus the bump ${bump.bump}`, 'InvariantViolated');
  } catch (e) {
    const wasActive = new Map(evidence.map((x) => [x.node, x.etcdActive]));
    const leftovers = await compensate(tracker, [...fenced].reverse().map((n) => ({
      id: `unfence:${n}`, title: `${n}: put its own data dir back, unmask etcd${wasActive.get(n) ? ' and start it' : ''}`, node: n,
      run: async () => {
        const r = (await undo.unfence({ ...base, node: n, tag, start: wasActive.get(n) ?? false })).result;
        return `${r.movedBack ? 'data dir back' : 'data dir in place'}${r.restarted ? ', etcd started' : ''}`;
      },
      leftover: { what: `etcd fenced; its data dir may still be at <data dir>.aside-${tag}`, fix: `move <data dir>.aside-${tag} back to the data dir, then lift the fence (systemd: systemctl unmask --runtime etcd; kubeadm: move etcd.yaml from the fenced dir back into the manifests dir) and start it` },
    })));
    endAfterCompensation(tracker, e, 'every fenced member got its own data dir back and etcd was started again where it ran', leftovers);
  }

  const joined: string[] = [restoreOn];
  try {
    await tracker.run(`peer-url:${restoreOn}`, async () => (await changes.ensurePeerURL({ ...base, node: restoreOn })).result,
      (r) => (r.updated ? `was ${r.before.join(',')}; fixed` : 'correct'));
    for (const n of others) {
      await addMember(tracker, base, n);
      joined.push(n);
    }
  } catch (e) {
    const missing = others.filter((n) => !joined.includes(n));
    const leftovers: Leftover[] = missing.map((n) => ({ node: n, what: 'not a member of the restored cluster (etcd fenced or stopped, old data moved aside)', fix: `etcd-runbooks cleanup --node ${n} && etcd-runbooks add-member --node ${n}` }));
    stopAtSafePoint(tracker, e, `past the point of no return: the restored cluster serves on ${joined.join(', ')}`, leftovers);
  }
  const verified = await tracker.run('verify', async () => (await reads.verifyCluster(base)).result, (r) => `${r.state.members.length} members, hashkv equal at revision ${r.revision}`);
  await finishWithKubeSync(tracker, base, kube);
  tracker.progress.outcome = 'completed';
  return {
    restoredOn: restoreOn, clusterId: verified.state.clusterId,
    previousClusterIds: [...new Set(evidence.flatMap((e) => (e.clusterId ? [e.clusterId] : [])))],
    snapshotRevision: snap.revision, liveRevisionBefore, revisionBump: bump.bump, ...(bump.why ? { revisionBumpWhy: bump.why } : {}),
    restoredRevision, revision: verified.revision,
    members: verified.state.members.map((m) => m.name).sort(), approvals: tracker.progress.approvals,
  };
}

/** `revision 201, bumped by 1000000000 to 1000000201 (marked compacted; why)` or `revision 201, no bump (why)`. */
function describeBump(snapshotRevision: number, bump: number, why?: string): string {
  const reason = why ? `; ${why}` : '';
  return bump > 0 ? `revision ${snapshotRevision}, bumped by ${bump} to ${snapshotRevision + bump} (marked compacted${reason})` : `revision ${snapshotRevision}, no bump${why ? ` (${why})` : ''}`;
}
