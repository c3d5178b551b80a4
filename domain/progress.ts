import type { DecisionProof } from './decision';
import type { Identity } from './identity';

/**
 * The plan of a runbook and its progress, as returned by the workflow's `progress` query.
 * The plan is shown before any change is made; each step then moves pending -> running -> done
 * (or skipped, failed, compensated).
 */
export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed' | 'compensated';

export interface PlanStep {
  /** Stable id within the run, e.g. `add-learner:node2`. */
  id: string;
  /** What the step does, in operator terms. */
  title: string;
  /** The node the step acts on, if one. */
  node?: string;
  /** The procedure step it follows (reference file and section, or etcd/kubeadm doc title). */
  source?: string;
  status: StepStatus;
  /** ISO-8601 times from the workflow clock. */
  startedAt?: string;
  finishedAt?: string;
  /** Short outcome or error message. */
  detail?: string;
  /** In a plan (dry run): the cluster after this step, and what a cancel during it would do. */
  projection?: StepProjection;
}

/**
 * What a plan projects after one step: voting members in the membership, how many of them serve,
 * quorum of the membership, fault tolerance (serving minus quorum; negative: no quorum), and what
 * a cancel (or failure) during the step would do.
 */
export interface StepProjection { voters: number; serving: number; quorum: number; tolerance: number; onCancel: string }

export type RunOutcome = 'planning' | 'running' | 'waiting-approval' | 'completed' | 'failed' | 'compensated' | 'stopped';

/** A destructive step waiting for a human. */
export interface PendingApproval {
  /** The step id that waits (e.g. `remove:node2`). */
  step: string;
  /** What will happen, in operator terms. */
  question: string;
  requestedAt: string;
  /** When the run stops at a safe point if nobody approves. */
  expiresAt: string;
}

/** Who approved which step and when; part of the run's audit trail. */
export interface ApprovalRecord {
  step: string;
  question: string;
  by: string;
  at: string;
  /** True when approved up front (`--yes`) rather than at the prompt. */
  upFront: boolean;
  /** How the approver was authenticated and through which channel (runs since 0.5). */
  identity?: Identity;
  /** The signed decision the run verified (runs since 0.6): signing key, nonce, when it was issued. */
  proof?: DecisionProof;
}

/** Who rejected the waiting step, when and why: the run then stops at its safe point. */
export interface RejectionRecord {
  step: string;
  question: string;
  by: Identity;
  reason: string;
  at: string;
  /** The signed decision the run verified (runs since 0.6). */
  proof?: DecisionProof;
}

/** Who cancelled the run through a signed decision, when and why (runs since 0.6). */
export interface CancelRecord {
  by: Identity;
  reason: string;
  at: string;
  proof: DecisionProof;
}

export interface RunbookProgress {
  runbook: string;
  cluster: string;
  outcome: RunOutcome;
  /** Why the run is in its outcome (pre-flight problems, the failing step's error). */
  message?: string;
  steps: PlanStep[];
  pendingApproval?: PendingApproval;
  approvals: ApprovalRecord[];
  /** Set when a waiting step was rejected. */
  rejection?: RejectionRecord;
  /** Who asked for the run (from authentication), when the service layer started it. */
  requester?: Identity;
  /** The verified start decision (runs since 0.6). */
  startProof?: DecisionProof;
  /** Set when the run was cancelled through a signed decision. */
  cancel?: CancelRecord;
  /** Per member: SSH and etcd judged apart, from pre-flight (shown with the plan). */
  liveness?: string[];
  /** What the run left undone, per node (a safe point that is not the start or the goal). */
  leftovers?: Leftover[];
}

/**
 * Something a run could not undo or finish, and where: e.g. a node that did not answer while its
 * member was being taken back out. Shown in the progress, the failure's details, the CLI and the
 * audit trail, with the command that finishes it.
 */
export interface Leftover {
  node: string;
  /** What is left there, in operator terms (config file, data dir, running or enabled etcd). */
  what: string;
  /** The command that finishes it once the node answers. */
  fix: string;
}
