import { isCancellation } from '@temporalio/workflow';
import type { Leftover, PlanStep, StepProjection } from '../domain/progress';
import type { ApprovalGate } from './approval';
import { compensate, endAfterCompensation, recordLeftovers, stopAtSafePoint, type UndoStep } from './compensation';
import { refuse } from './runbook';
import { errorMessage, type ProgressTracker } from './steps';

/**
 * One phase of a runbook: a step of the plan the operator approves and the code that performs it,
 * in one place. A runbook is an ordered table of phases built after its pre-flight reads; `planOf`
 * renders the plan from it and `runPhases` executes it (the model is kubeadm's phase workflow,
 * kubernetes cmd/kubeadm/app/cmd/phases/workflow: `Help()` and `Run()` walk the same list).
 */
export interface Phase {
  /** Step id in the plan and the progress, unique in the run: `snapshot`, `add-learner:node4`. */
  id: string;
  /** What the step does, in operator terms. */
  title: string;
  /** The node it acts on, if one. */
  node?: string;
  /** The procedure step it follows: reference file and section, or etcd/kubeadm doc title. */
  source: string;
  /**
   * Asked when the phase is reached: `true` runs it, a string skips it with that reason (kubeadm's
   * RunIf). Absent: always runs.
   */
  runIf?: () => true | string;
  /** A person's approval, asked right before the phase runs: the approval's step id (default the phase id) and question. */
  approval?: { step?: string; question: () => string };
  /** Performs the phase (activities only); returns the step's detail line. */
  run: () => Promise<string>;
  /**
   * Undo steps registered when the phase starts, after its approval (a half-done phase is undone too). Run, each once,
   * if the run ends before a point of no return: cluster side first, then node side, newest first.
   */
  undo?: UndoStep[];
  /**
   * Past this the change is not undone: `started` once the phase's own run begins (after its
   * approval), `done` once it finished. From then on registered undo steps are dropped and a failure
   * or cancel ends at the latest `safePoint`.
   */
  pointOfNoReturn?: 'started' | 'done';
  /** How the run reads if it ends from this phase on, past a point of no return: where it is, and what is left where. */
  safePoint?: () => { where: string; leftovers?: Leftover[] };
  /** Nothing has changed yet: a failure here refuses the run (`PreflightFailed`) as `<refuses>: <error>`. */
  refuses?: string;
  /**
   * A failure here (not a cancel, rejection or approval timeout) does not end the run: it becomes
   * this leftover, and later phases of the same node that also tolerate failure are skipped.
   */
  tolerate?: Omit<Leftover, 'node'>;
  /** The membership after the phase, for the plan's projection (absent: unchanged). */
  members?: (m: Members) => Members;
}

/** Voting members in the membership, and how many of them serve. */
export interface Members { voters: number; serving: number }

/** The plan shown for a table: every phase pending, in order, with its source. */
export function planOf(phases: readonly Phase[]): PlanStep[] {
  return phases.map((p) => ({ id: p.id, title: p.title, ...(p.node ? { node: p.node } : {}), source: p.source, status: 'pending' }));
}

/** The result of a dry run: the plan, each step with its projection. Nothing was changed. */
export interface DryRunResult { dryRun: true; plan: PlanStep[] }

/**
 * The plan of a table with, after each phase, the projected membership (voters, serving, quorum,
 * fault tolerance) and what a cancel during it would do, decided as `runPhases` decides: before a
 * point of no return the registered undo steps, past it the safe point.
 */
export function projectPlan(phases: readonly Phase[], start: Members): PlanStep[] {
  let m = start;
  let undos: UndoStep[] = [];
  let pastNoReturn = false;
  let safePoint: Phase['safePoint'];
  return planOf(phases).map((step, i) => {
    const p = phases[i];
    if (p.safePoint) safePoint = p.safePoint;
    if (p.undo?.length) undos.push(...p.undo);
    if (p.pointOfNoReturn === 'started') { pastNoReturn = true; undos = []; }
    let onCancel: string;
    if (p.refuses) onCancel = 'ends refused: nothing was changed';
    else if (pastNoReturn) onCancel = `stops at a safe point: ${safePoint?.().where ?? 'past the point of no return'}`;
    else if (undos.length) onCancel = `undoes: ${undoOrder(undos).map((u) => u.title).join('; ')}`;
    else onCancel = 'ends: nothing was changed';
    m = p.members?.(m) ?? m;
    if (p.pointOfNoReturn === 'done') { pastNoReturn = true; undos = []; }
    const quorum = Math.floor(m.voters / 2) + 1;
    const projection: StepProjection = { voters: m.voters, serving: m.serving, quorum, tolerance: m.serving - quorum, onCancel };
    return { ...step, projection };
  });
}

/**
 * Ends a dry run after its pre-flight: the plan with its projection in the progress and the
 * result, outcome completed, nothing changed.
 */
export function planOnly(tracker: ProgressTracker, phases: readonly Phase[], start: Members): DryRunResult {
  const pre = tracker.progress.steps.filter((s) => !phases.some((p) => p.id === s.id));
  const plan = projectPlan(phases, start);
  tracker.setSteps([...pre, ...plan]);
  tracker.progress.outcome = 'completed';
  tracker.progress.message = `dry run: pre-flight passed; the plan has ${plan.length} steps; nothing was changed`;
  return { dryRun: true, plan };
}

/** What ends a run whatever a phase tolerates: a cancel, a rejected step, an approval that timed out. */
function isStop(e: unknown): boolean {
  return isCancellation(e) || ['ApprovalTimeout', 'Rejected'].includes((e as { type?: string }).type ?? '');
}

/** Cluster-side undo steps first (member remove), then node-side; newest first within each side. */
function undoOrder(steps: readonly UndoStep[]): UndoStep[] {
  const newestFirst = [...steps].reverse();
  return [...newestFirst.filter((u) => u.side === 'cluster'), ...newestFirst.filter((u) => u.side !== 'cluster')];
}

/**
 * Runs a phase table (the plan must hold `planOf(phases)`), deciding how the run ends when a phase
 * fails or the run is cancelled:
 * - in a `refuses` phase: refused, nothing changed (a cancel there: undone, nothing changed);
 * - before any point of no return: every registered undo step runs (workflows/compensation.ts) and
 *   the run ends `Compensated`/`RunCancelled` with `undone` (or "nothing was changed" when no undo
 *   step was registered; a rejection or approval timeout with nothing to undo ends as itself);
 * - past a point of no return: undo steps registered since run, then the run ends
 *   `StoppedAtSafePoint` with the latest safe point and every leftover.
 * Throws only ApplicationFailure (or the cancellation/approval failure it received).
 */
export async function runPhases(tracker: ProgressTracker, gate: ApprovalGate | undefined, phases: readonly Phase[], undone: (nodes: string[]) => string): Promise<void> {
  let undos: UndoStep[] = [];
  let firstUndo = -1;
  let pastNoReturn = false;
  let safePoint: Phase['safePoint'];
  const tolerated = new Set<string>();
  for (const [i, p] of phases.entries()) {
    const why = p.node && p.tolerate && tolerated.has(p.node) ? 'not attempted: an earlier step on this node failed' : p.runIf?.();
    if (why !== undefined && why !== true) { tracker.skip(p.id, why); continue; }
    if (p.safePoint) safePoint = p.safePoint;
    try {
      if (p.approval) await gate?.require(p.approval.step ?? p.id, p.approval.question());
      if (p.undo?.length) { undos.push(...p.undo); if (firstUndo < 0) firstUndo = i; }
      if (p.pointOfNoReturn === 'started') { pastNoReturn = true; undos = []; }
      await tracker.run(p.id, p.run, (d) => d);
    } catch (e) {
      if (p.tolerate && p.node && !isStop(e)) {
        recordLeftovers(tracker, [{ node: p.node, ...p.tolerate, what: `${p.tolerate.what} (${errorMessage(e).slice(0, 120)})` }]);
        tolerated.add(p.node);
        continue;
      }
      if (p.refuses && !isCancellation(e)) {
        if ((e as { type?: string }).type === 'PreflightFailed') throw e;
        refuse(tracker, [`${p.refuses}: ${errorMessage(e)}`]);
      }
      const leftovers = undos.length ? await compensate(tracker, undoOrder(undos)) : [];
      markCompensated(tracker, phases.slice(Math.max(firstUndo, 0)), undos, leftovers);
      if (pastNoReturn) {
        const at = safePoint?.() ?? { where: 'past the point of no return' };
        stopAtSafePoint(tracker, e, at.where, [...(at.leftovers ?? []), ...leftovers]);
      }
      if (!undos.length && !isCancellation(e) && isStop(e)) throw e;
      endAfterCompensation(tracker, e, undos.length ? undone([...new Set(undos.flatMap((u) => (u.node ? [u.node] : [])))]) : 'nothing was changed', leftovers);
    }
    if (p.pointOfNoReturn === 'done') { pastNoReturn = true; undos = []; firstUndo = -1; }
  }
}

/** Done phases of the nodes whose undo steps all ran read `compensated`. */
function markCompensated(tracker: ProgressTracker, phases: readonly Phase[], undos: readonly UndoStep[], leftovers: readonly Leftover[]): void {
  const failed = new Set(leftovers.map((l) => l.node));
  const nodes = new Set(undos.flatMap((u) => (u.node && !failed.has(u.node) ? [u.node] : [])));
  const ids = new Set(phases.filter((p) => p.node && nodes.has(p.node)).map((p) => p.id));
  for (const s of tracker.progress.steps) if (ids.has(s.id) && s.status === 'done') s.status = 'compensated';
}
