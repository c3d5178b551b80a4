import { workflowInfo } from '@temporalio/workflow';
import { planDefrag, type DefragChoice } from '../domain/defrag';
import { DefragInputSchema, type DefragInput } from '../domain/inputs';
import type { DefragResult } from '../activities';
import { changes, long, reads, type Base } from './proxies';
import { verifyPhase } from './clusterPhases';
import { planOf, planOnly, runPhases, type DryRunResult, type Phase } from './phases';
import { refuse, runTag, startRunbook } from './runbook';
import { foreignProblems } from '../domain/oneCluster';

export interface DefragClusterResult { members: DefragResult[]; disarmed: boolean }

/** A file size for the progress: MiB with one decimal, KiB below 1 MiB. */
function size(bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function rewrittenNodes(done: readonly DefragResult[]): string {
  return done.filter((d) => !d.skipped).map((d) => d.node).join(', ') || 'no member';
}

/** `defrag:<node>`: one member rewritten online; past it the run does not undo (a rewrite is harmless and final). */
function defragPhase(base: Base, c: DefragChoice, leader: boolean, minFreePercent: number, noSpace: boolean,
  done: DefragResult[], offline: boolean): Phase {
  return {
    id: `defrag:${c.node}`, node: c.node, source: 'etcd docs "Maintenance: Defragmentation" (https://etcd.io/docs/v3.5/op-guide/maintenance/#defragmentation)',
    title: `defragment ${c.node}'s member${offline ? ' offline (stop, etcdutl defrag, start)' : ''}${leader ? ' (the leader, last)' : ''}: ${c.freePercent}% of its file free; wait until it serves and has caught up`,
    runIf: () => c.skip ?? true,
    pointOfNoReturn: 'started',
    safePoint: () => ({
      where: `${rewrittenNodes(done)} defragmented; ${c.node}'s defragmentation did not finish: check it with \`etcd-runbooks status\``,
      leftovers: [{ node: c.node, what: 'member may not have been defragmented, or may not serve yet', fix: `etcd-runbooks status --cluster ${base.cluster}; then etcd-runbooks defrag --cluster ${base.cluster}` }],
    }),
    run: async () => {
      const r = (await long.defragMember({ ...base, node: c.node, minFreePercent, noSpace, ...(offline ? { offline } : {}) })).result;
      done.push(r);
      if (r.skipped) return r.skipped;
      return `${size(r.before.dbSize)} -> ${size(r.after!.dbSize)} in ${r.seconds!.toFixed(2)} s${r.offline ? ` offline (${r.offline})` : ''}${r.movedLeaderTo ? `; leadership moved to ${r.movedLeaderTo} first` : ''}${r.sshLost ? `; SSH lost while etcdctl ran (${r.sshLost}), the outcome read from etcd` : ''}`;
    },
  };
}

/**
 * Defragments the voting members online, one at a time: followers first, the leader last after
 * leadership moved off it; members below `minFreePercent` free pages, or without the free disk
 * the rewrite needs, are skipped with the reason. When a NOSPACE alarm is raised: every member
 * over the disarm line is rewritten, then the alarm is disarmed once every file is back under it,
 * and a write is checked. Refused at pre-flight when a voting member does not serve or a CORRUPT
 * alarm is raised. Nothing is undone: a rewrite leaves the same keys; a failure stops at the
 * member it was on. Sources: etcd docs "Maintenance" (defragmentation, space quota); reference
 * 000 §7 (move the leader first).
 */
export async function defragCluster(raw: DefragInput): Promise<DefragClusterResult | DryRunResult> {
  const { input, base, tracker } = startRunbook('defragCluster', DefragInputSchema, raw);
  const report = (await reads.inspectDefrag(base)).result;
  const plan = planDefrag(report.members, report.alarms, input.minFreePercent);
  const done: DefragResult[] = [];
  let disarmed = false;
  const tag = runTag('defrag', workflowInfo().runId);
  const phases: Phase[] = [
    ...plan.members.flatMap((c): Phase[] => {
      const isLeader = c.node === plan.leader;
      const move: Phase[] = isLeader && plan.members.length > 1 ? [{
        id: `move-leader-off:${c.node}`, node: c.node, title: `move leadership off ${c.node} to a member already defragmented`, source: 'reference 000 §7; etcdctl move-leader',
        runIf: () => c.skip ?? true, pointOfNoReturn: 'started',
        run: async () => {
          const r = (await changes.moveLeaderOff({ ...base, node: c.node })).result;
          return r.movedTo ? `leadership moved to member ${r.movedTo}` : 'not the leader any more';
        },
      }] : [];
      return [...move, defragPhase(base, c, isLeader, input.minFreePercent, plan.disarm, done, input.offline)];
    }),
    ...(plan.disarm ? [
      {
        id: 'disarm', title: 'disarm the NOSPACE alarm once every member\'s file is back under its quota', source: 'etcd docs "Maintenance: Space quota"',
        safePoint: () => ({ where: `${rewrittenNodes(done)} defragmented; the NOSPACE alarm may still be raised: \`etcdctl alarm list\`, free space (compact, delete keys, raise the quota), then run defrag again` }),
        run: async () => {
          disarmed = (await changes.disarmNoSpace(base)).result.disarmed;
          return disarmed ? 'NOSPACE disarmed' : 'no alarm raised any more';
        },
      },
      {
        id: 'check-writes', title: 'check that writes succeed (a key with a 60 s lease, put, read back, deleted)', source: 'etcd docs "Maintenance: Space quota"',
        run: async () => `put and read back ${(await reads.checkWrites({ ...base, tag })).result.key}`,
      },
    ] : []),
    verifyPhase(base, 'every member healthy, equal hashkv', () => undefined),
  ];
  tracker.setSteps([{ id: 'preflight', title: 'pre-flight: every voting member serves, no CORRUPT alarm, free disk for each rewrite', status: 'done' }, ...planOf(phases)]);
  const problems = [...foreignProblems(report.foreign), ...plan.problems];
  if (problems.length) refuse(tracker, problems);
  const members = { voters: report.members.length, serving: report.members.filter((m) => m.serving).length };
  if (input.dryRun) return planOnly(tracker, phases, members);
  tracker.progress.outcome = 'running';
  await runPhases(tracker, undefined, phases, () => 'nothing was changed');
  tracker.progress.outcome = 'completed';
  const rewritten = done.filter((d) => !d.skipped).length;
  tracker.progress.message = `${rewritten} of ${plan.members.length} members defragmented${disarmed ? '; NOSPACE disarmed, writes accepted' : ''}`;
  return { members: done, disarmed };
}
