import { ApplicationFailure, sleep, workflowInfo } from '@temporalio/workflow';
import { RecoverQuorumInputSchema, type RecoverQuorumInput } from '../domain/inputs';
import { describeLiveness, etcdLiveness, judgeQuorum, splitBrainProblems } from '../domain/liveness';
import type { ApprovalRecord, Leftover } from '../domain/progress';
import { chooseSurvivor, describeEvidence, lowerBound } from '../domain/recovery';
import { changes, long, probes, reads, undo } from './proxies';
import { addMemberPhases } from './memberSteps';
import { verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { KUBE_SAFE_POINT, kubePhases, planKubeSync } from './kubeSync';

export interface RecoverQuorumResult {
  survivor: string;
  evidence: string[];
  readded: string[];
  revision: number;
  members: string[];
  approvals: ApprovalRecord[];
}

/**
 * Recovers a cluster that lost quorum. Liveness is asked of etcd itself (every member's client URL
 * from every node that answers, TCP from the worker) and SSH is judged apart: the run refuses, whatever
 * `--yes` says, while a quorum of voting members may still serve, or while serving members disagree
 * on the cluster (two clusters). The survivor is the member with the highest raft index (then
 * applied index, then revision), never the current term. Then (approved, with what the operator
 * must guarantee for members that do not answer) etcd is fenced on every node that answers and
 * their data dirs are copied aside; every other member must be proven down from the survivor's
 * node and the worker (client and peer ports) or fenced, else nothing is forced. Then (approved)
 * the survivor restarts with --force-new-cluster (a drop-in), is verified as a 1-member cluster
 * with its data, and restarts without the flag (checked in the running process). Each other node,
 * once it answers (waited for as workflow timers), is fenced before it can rejoin, (approved) its
 * data dir moved aside, and it is re-added as a learner and promoted.
 * Point of no return: --force-new-cluster. A failure or cancel before it starts etcd again where it
 * ran (the cluster as found); after it, the run stops with the survivor serving and the members
 * not yet re-added listed. Source: reference 001 (quorum loss, --force-new-cluster); 002 (restore
 * as a single node, then add members); 004 (ETCD_FORCE_NEW_CLUSTER drop-in, remove it afterwards).
 */
export async function recoverQuorum(raw: RecoverQuorumInput): Promise<RecoverQuorumResult | DryRunResult> {
  const { input, base, tracker, gate } = startRunbook('recoverQuorum', RecoverQuorumInputSchema, raw);
  const tag = runTag('recover', workflowInfo().runId);
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight: etcd liveness of every member (SSH judged apart), quorum really lost, evidence', status: 'running' }]);

  const liveness = (await reads.probeLiveness({ ...base, nodes: input.members })).result;
  tracker.progress.liveness = liveness.map(describeLiveness);
  const quorum = judgeQuorum(liveness);
  const problems = splitBrainProblems(liveness);
  if (quorum.hasQuorum) {
    problems.push(`${quorum.answering.length} of ${quorum.voters} voting members may still serve (${quorum.answering.join(', ')}; quorum is ${quorum.quorum}): the cluster has quorum, or a network partition separates members that still run; forcing a new cluster now would make two clusters. Replace the failed members instead, or fix the network`);
  }
  if (problems.length) refuse(tracker, problems);
  const sshNodes = liveness.filter((m) => m.ssh.ok).map((m) => m.node);
  const evidence = (await reads.gatherEvidence({ ...base, nodes: sshNodes })).result;
  const lines = evidence.map(describeEvidence);
  const survivor = chooseSurvivor(evidence);
  if (!survivor) refuse(tracker, ['no member node that answers showed any etcd data; restore from a snapshot instead (restoreCluster)']);
  const s = survivor.node;
  const { fencing, liftFence, forceNewClusterAt } = evidence[0].runtime;
  // The most advanced member cut off from every other node (its etcd runs, only its own node reaches
  // it): forced alone, no other member could join it.
  const survivorLiveness = liveness.find((m) => m.node === s);
  if (survivorLiveness && etcdLiveness(survivorLiveness) === 'isolated') {
    refuse(tracker, [`${s} holds the most advanced data (${describeEvidence(survivor)}) but its etcd is reachable only from its own node: after --force-new-cluster no other member could join it. Fix its network (client and peer ports) and run again`]);
  }
  const others = input.members.filter((n) => n !== s);
  const unreachable = liveness.filter((m) => !m.ssh.ok).map((m) => m.node);
  const lowerBounds = evidence.filter(lowerBound).map((e) => e.node);
  const preflight = { ...tracker.step('preflight'), status: 'done' as const, detail: `survivor ${s} (${describeEvidence(survivor)})${lowerBounds.length ? `; for ${lowerBounds.join(', ')} only a lower bound of the raft index is known (stopped)` : ''}; ${lines.join('; ')}` };
  // Lost quorum is why this runs: the apiservers need not be ready before it.
  const kube = await planKubeSync(base, { requireReady: false });
  const guarantee = unreachable.length
    ? `; ${unreachable.join(', ')} do${unreachable.length === 1 ? 'es' : ''} not answer over SSH and their etcd does not answer: before approving, make sure they are powered off, or that etcd there is disabled before they come back (this run fences them when they answer)`
    : '';
  const wasActive = new Map(evidence.map((e) => [e.node, e.etcdActive]));
  const fenced: string[] = [];
  const healthy: string[] = [];
  const readded = () => [...healthy];
  let flagCleared = false;
  let verified = { revision: 0, members: [] as string[] };
  const fenceRun = (n: string) => async () => {
    const r = (await changes.fenceMember({ ...base, node: n })).result;
    return `etcd ${r.service}, ${r.fence ?? 'masked'}`;
  };
  const phases: Phase[] = [
    ...sshNodes.map((n, i): Phase => ({
      id: `fence:${n}`, title: `${n}: ${fencing}`, node: n, source: 'reference 004 (stop etcd everywhere first); reference 001',
      ...(i === 0 ? { approval: { step: 'fence', question: () => `${fencing} on ${sshNodes.join(', ')} and copy their data dirs aside${guarantee}` } } : {}),
      undo: [{
        id: `unfence:${n}`, title: `${n}: unmask etcd${wasActive.get(n) ? ' and start it again' : ''}`, node: n, side: 'node',
        run: async () => ((await undo.unfence({ ...base, node: n, tag, start: wasActive.get(n) ?? false })).result.restarted ? 'etcd started' : 'fence lifted'),
        leftover: { what: 'etcd fenced', fix: `lift the fence (${liftFence}), then start it if it ran before` },
      }],
      members: (m) => ({ ...m, serving: Math.max(0, m.serving - 1) }),
      run: async () => { fenced.push(n); return fenceRun(n)(); },
    })),
    ...sshNodes.map((n): Phase => ({
      id: `backup-data:${n}`, title: `${n}: copy the data dir aside`, node: n, source: 'reference 002 (back up the data dir before forcing)',
      run: async () => {
        const r = (await long.backupDataDir({ ...base, node: n, tag })).result;
        return r.copy ? `copied to ${r.copy}` : 'no data dir';
      },
    })),
    {
      id: 'prove-down', title: `from ${s} and the worker: every other member proven down (client and peer ports) or fenced`, node: s, source: 'etcd docs "Disaster recovery" (every other member stopped before --force-new-cluster)',
      run: async () => {
        const view = (await reads.viewFromSurvivor({ ...base, node: s, others: unreachable })).result;
        const alive = view.filter((v) => v.clientAnswers || v.peerPortOpen || v.workerTcp.client || v.workerTcp.peer);
        for (const n of others.filter((x) => sshNodes.includes(x))) {
          const st = (await reads.etcdServiceState({ ...base, node: n })).result.service;
          if (st === 'running') alive.push({ node: n, clientAnswers: true, peerPortOpen: true, workerTcp: { client: true, peer: true } });
        }
        if (alive.length) {
          throw ApplicationFailure.nonRetryable(`not proven down: ${alive.map((v) => `${v.node} (client ${v.clientAnswers ? 'answers' : 'silent'}, peer port ${v.peerPortOpen ? 'open' : 'closed'} from ${s}; worker TCP client ${v.workerTcp.client ? 'open' : 'closed'}, peer ${v.workerTcp.peer ? 'open' : 'closed'})`).join('; ')}; --force-new-cluster now would make two clusters`, 'NotProvenDown');
        }
        return `${unreachable.length ? `${unreachable.join(', ')} silent on client and peer ports` : 'no unreachable member'}; ${fenced.filter((n) => n !== s).join(', ') || 'no other node'} fenced`;
      },
    },
    {
      id: `force-new-cluster:${s}`, title: `${s}: restart with --force-new-cluster, verify a 1-member cluster with its data (point of no return)`, node: s,
      source: 'reference 001 (quorum loss, --force-new-cluster); reference 004 (ETCD_FORCE_NEW_CLUSTER drop-in)',
      approval: { question: () => `restart ${s} with --force-new-cluster (the membership becomes ${s} alone; there is no way back after this)` },
      pointOfNoReturn: 'started',
      members: () => ({ voters: 1, serving: 1 }),
      safePoint: () => {
        const flagLeft = !flagCleared;
        const missing = others.filter((n) => !readded().includes(n));
        return {
          where: `past the point of no return: ${s} serves as the recovered cluster${readded().length ? ` with ${readded().join(', ')}` : ''}`,
          leftovers: [
            ...(flagLeft ? [{ node: s, what: `etcd may still carry --force-new-cluster (${forceNewClusterAt})`, fix: 'remove it and restart etcd (or run recover-quorum again)' }] : []),
            ...missing.map((n): Leftover => ({ node: n, what: 'not a member of the recovered cluster (its etcd fenced, or not reached yet)', fix: `etcd-runbooks cleanup --node ${n} && etcd-runbooks add-member --node ${n}` })),
          ],
        };
      },
      run: async () => {
        const v = (await long.forceNewCluster({ ...base, node: s })).result;
        if (survivor.revision !== undefined && v.status.revision < survivor.revision) {
          throw ApplicationFailure.nonRetryable(`${s}: revision ${v.status.revision} after --force-new-cluster is below the ${survivor.revision} it had`, 'InvariantViolated');
        }
        return `1-member cluster ${v.clusterId}, revision ${v.status.revision}`;
      },
    },
    {
      id: `clear-flag:${s}`, title: `${s}: remove --force-new-cluster, restart, verify the process runs without it`, node: s, source: 'reference 004 (remove ETCD_FORCE_NEW_CLUSTER afterwards)',
      run: async () => {
        const v = (await long.clearForceNewCluster({ ...base, node: s })).result;
        flagCleared = true;
        return `running without the flag (drop-in ${v.flag.dropIn}, process ${v.flag.inProcess}), revision ${v.status.revision}`;
      },
    },
    {
      id: `peer-url:${s}`, title: `${s}: check and fix the advertised peer URL`, node: s, source: 'reference 002 (a forced member may advertise localhost); etcdctl member update',
      run: async () => {
        const r = (await changes.ensurePeerURL({ ...base, node: s })).result;
        return r.updated ? `was ${r.before.join(',')}; fixed` : 'correct';
      },
    },
    ...others.flatMap((n): Phase[] => [
      {
        id: `wait-reachable:${n}`, title: `${n}: wait until the node answers (repair it if needed)`, node: n, source: 'reference 002 (then add the members back)',
        run: async () => { await waitReachable(base, n, input.waitForNodesSeconds); return 'answers'; },
      },
      { id: `refence:${n}`, title: `${n}: stop, disable and mask its stale etcd before it can rejoin`, node: n, source: 'reference 004', run: fenceRun(n) },
      {
        id: `move-aside:${n}`, title: `${n}: move the stale data dir aside`, node: n, source: 'reference 002, 004 (a re-added member starts empty)',
        approval: { question: () => `move ${n}'s stale data dir aside` },
        run: async () => {
          const r = (await changes.moveDataDirAside({ ...base, node: n, tag })).result;
          return r.movedTo ? `moved to ${r.movedTo}` : 'no data to move';
        },
      },
      ...addMemberPhases(tracker, base, n, tag, () => { healthy.push(n); }).map((p) => ({ ...p, undo: undefined })),
    ]),
    verifyPhase(base, 'all members voting, healthy, equal hashkv', (r) => { verified = { revision: r.revision, members: r.members.map((m) => m.name).sort() }; }),
    ...kubePhases(tracker, base, kube, KUBE_SAFE_POINT),
  ];
  tracker.setSteps([preflight, ...planOf(phases)]);
  if (input.dryRun) return planOnly(tracker, phases, { voters: quorum.voters, serving: quorum.answering.length });
  tracker.progress.outcome = 'running';
  await runPhases(tracker, gate, phases, () => 'etcd was unmasked and started again where it ran; the cluster is as it was found');
  tracker.progress.outcome = 'completed';
  return { survivor: s, evidence: lines, readded: readded(), revision: verified.revision, members: verified.members, approvals: tracker.progress.approvals };
}

/** Waits until the node answers SSH, as workflow timers around an 8 s probe, up to `seconds`. */
async function waitReachable(base: { cluster: string; inventoryDigest?: string }, node: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const r = (await probes.checkReachable({ ...base, node })).result;
    if (r.reachable) return;
    if (Date.now() > deadline) throw ApplicationFailure.nonRetryable(`${node} did not answer within ${seconds} s`, 'NodeNotBack');
    await sleep('5 seconds');
  }
}
