import { workflowInfo } from '@temporalio/workflow';
import { planUpgrade, type UpgradeChoice } from '../domain/upgrade';
import { UpgradeInputSchema, type UpgradeInput } from '../domain/inputs';
import type { SnapshotInfo } from '../activities';
import type { UpgradeResult } from '../activities/etcd/upgrade';
import { changes, long, reads, undo, type Base } from './proxies';
import { snapshotPhase, verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { foreignProblems } from '../domain/oneCluster';

export interface UpgradeClusterResult { members: UpgradeResult[]; clusterVersion?: string; snapshot: string }

const SOURCE = 'etcd docs "Upgrade etcd from 3.5 to 3.6" (https://etcd.io/docs/v3.6/upgrades/upgrade_3_6/)';

/**
 * `upgrade:<node>`: one member restarted on etcd `version`. Its undo puts it back on the release it
 * ran (valid until the last member runs the new version: the cluster version stays the old one).
 */
function upgradePhase(base: Base, c: UpgradeChoice, version: string, last: boolean, done: UpgradeResult[], approval?: Phase['approval']): Phase {
  return {
    id: `upgrade:${c.node}`, node: c.node, source: SOURCE,
    title: `etcd ${c.from} -> ${version} on ${c.node}: stop, point at the release, start, wait until it serves ${version} and has caught up${last ? ' (the last member: past it the upgrade is not rolled back)' : ''}`,
    runIf: () => (c.already ? `already etcd ${version}` : true),
    ...(approval ? { approval } : {}),
    undo: [{
      id: `rollback:${c.node}`, title: `put ${c.node}'s member back on etcd ${c.from}`, node: c.node, side: 'node',
      run: async () => ((await undo.rollbackMember({ ...base, node: c.node, version })).result.restarted ? `${c.node} back on etcd ${c.from}` : `${c.node} was not changed`),
      leftover: { what: `member may still run etcd ${version} while the others run ${c.from}`, fix: `etcd-runbooks status --cluster ${base.cluster}; upgrade --to ${version} again, or point it back at ${c.from} by hand` },
    }],
    ...(last ? {
      pointOfNoReturn: 'done' as const,
      safePoint: () => ({ where: `every member runs etcd ${version}; the cluster version or the final check did not confirm it: check with \`etcd-runbooks status\`` }),
    } : {}),
    run: async () => {
      const r = (await long.upgradeMember({ ...base, node: c.node, version })).result;
      done.push(r);
      return r.already ? `already etcd ${version}` : `etcd ${r.from} -> ${r.to} in ${r.seconds?.toFixed(1)} s${r.movedLeaderTo ? `; leadership moved to ${r.movedLeaderTo} first` : ''}`;
    },
  };
}

/**
 * Rolling upgrade of every voting member to etcd `version` (a patch, or the next minor). Pre-flight:
 * every member healthy, the supported path (domain/upgrade.ts), the release present and runnable
 * on every node (MemberRuntime.releaseProblem). Then a verified snapshot; then one member at a
 * time, followers first, the leader last after leadership moved off it: stop, point at the
 * release, start, wait until it serves the new version and has caught up. A failure before the
 * last member runs the new version puts every member this run upgraded back on its old release
 * (the cluster version has not moved: etcd keeps the lowest member's); past it the run stops at a
 * safe point. Then the cluster version (a minor upgrade) and equal hashkv. Sources: etcd upgrade
 * guides (https://etcd.io/docs/v3.6/upgrades/); reference 000 §4 (snapshot first), §7 (leader).
 */
export async function upgradeCluster(raw: UpgradeInput): Promise<UpgradeClusterResult | DryRunResult> {
  const { input, base, tracker, gate } = startRunbook('upgradeCluster', UpgradeInputSchema, raw);
  const report = (await reads.inspectUpgrade({ ...base, version: input.version })).result;
  const plan = planUpgrade(report.members, input.version);
  const todo = plan.members.filter((c) => !c.already);
  const lastNode = todo[todo.length - 1]?.node;
  const done: UpgradeResult[] = [];
  let snap: SnapshotInfo | undefined;
  let clusterVersion: string | undefined;
  const tag = runTag('upgrade', workflowInfo().runId);
  const question = () => `restart ${todo.length} member(s) of ${base.cluster} one at a time on etcd ${input.version} (followers first, the leader last)`;
  const phases: Phase[] = [
    snapshotPhase(base, tag, (s) => { snap = s; }),
    ...plan.members.flatMap((c): Phase[] => [
      ...(c.node === plan.leader && plan.members.length > 1 ? [{
        id: `move-leader-off:${c.node}`, node: c.node, title: `move leadership off ${c.node} to a member already on etcd ${input.version}`, source: 'reference 000 §7; etcdctl move-leader',
        runIf: () => (c.already ? `already etcd ${input.version}` : true),
        run: async () => {
          const r = (await changes.moveLeaderOff({ ...base, node: c.node })).result;
          return r.movedTo ? `leadership moved to member ${r.movedTo}` : 'not the leader any more';
        },
      }] : []),
      upgradePhase(base, c, input.version, c.node === lastNode, done, c === todo[0] ? { step: 'upgrade', question } : undefined),
    ]),
    ...(plan.minorUpgrade ? [{
      id: 'cluster-version', title: `etcd reports the cluster version ${input.version.replace(/\.\d+$/, '.0')}`, source: SOURCE,
      run: async () => { clusterVersion = (await reads.waitClusterVersion({ ...base, version: input.version })).result.clusterVersion; return `cluster version ${clusterVersion}`; },
    }] : []),
    ...(report.kubeadmImageTag && plan.members.length ? [{
      id: 'kubeadm-config', node: plan.members[0].node, source: 'kubeadm config API v1beta4 (ClusterConfiguration.etcd.local.imageTag)',
      title: `kubeadm-config ConfigMap: etcd.local.imageTag to the tag the members run, so that control-plane nodes joined later run etcd ${input.version}`,
      run: async () => {
        const r = (await changes.recordEtcdImageTag({ ...base, node: plan.members[0].node, version: input.version })).result;
        return r.changed ? `imageTag ${r.before ?? '(unset)'} -> ${r.tag}` : `already ${r.tag}`;
      },
    }] : []),
    verifyPhase(base, `every member healthy on etcd ${input.version}, equal hashkv`, () => undefined),
  ];
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight: every member healthy, the supported upgrade path, the release on every node', status: 'done' }, ...planOf(phases)]);
  const problems = [
    ...foreignProblems(report.foreign),
    ...report.unhealthy.map((u) => `not healthy: ${u}`),
    ...plan.problems,
    ...(todo.length ? report.releaseProblems : []),
  ];
  if (problems.length) refuse(tracker, problems);
  const members = { voters: report.members.length, serving: report.members.length - report.unhealthy.length };
  if (input.dryRun) return planOnly(tracker, phases, members);
  tracker.progress.outcome = 'running';
  await runPhases(tracker, gate, phases, (nodes) => `the members this run upgraded (${nodes.join(', ')}) run their old release again`);
  tracker.progress.outcome = 'completed';
  tracker.progress.message = `${done.filter((d) => !d.already).length} member(s) upgraded to etcd ${input.version}${clusterVersion ? `; cluster version ${clusterVersion}` : ''}`;
  return { members: done, ...(clusterVersion ? { clusterVersion } : {}), snapshot: `${snap!.node}:${snap!.path}` };
}
