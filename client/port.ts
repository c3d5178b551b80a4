import type { ClusterState, DoctorRow, KubeState } from '../activities';
import type { ApprovalRecord, RejectionRecord } from '../domain/progress';
import type { RecoveryPoint } from '../service/recoveryPoint';
import type { ProposalsView } from '../service/runs';
import type { RunbookName } from '../service/catalogue';
import type { Operation, RunSummary } from '../service/operation';

/** What `status` shows: the cluster as one read, the control plane's view when it has one, and the recovery point. */
export type StatusView = ClusterState & { kube?: KubeState; recoveryPoint: RecoveryPoint };

/**
 * What the CLI asks of etcd-runbooks, whoever answers: the service layer in this process (root,
 * who holds the keys anyway: client/direct.ts) or the local CLI service over its unix socket
 * (everyone else: client/local.ts). The caller is never an argument: the direct path takes the
 * OS user, the socket path proves it to the service (api/localSessions.ts).
 * Errors: ServiceError (service/errors.ts) with the service's kind and message.
 */
export interface CliRuns {
  /** The caller as the service sees them (principal after the people mapping). */
  readonly principal: string;
  /** Starts runbook `name`; `approvedUpFront`: the caller approves every step as themselves (`--yes`). */
  start(name: RunbookName, cluster: string, fields: Record<string, unknown>, opts: { approvedUpFront: boolean }): Promise<Operation>;
  /** The run `runId` (default: the cluster's newest runbook run). */
  get(cluster: string, runId?: string): Promise<Operation>;
  approve(cluster: string, step: string, runId: string): Promise<ApprovalRecord>;
  reject(cluster: string, step: string, reason: string, runId: string): Promise<RejectionRecord>;
  cancel(cluster: string, reason: string, runId: string): Promise<RunSummary>;
  list(cluster: string, limit: number): Promise<RunSummary[]>;
  status(cluster: string): Promise<StatusView>;
  /** What the cluster's watch proposes and reports (service/runs.ts ProposalsView). */
  proposals(cluster: string): Promise<ProposalsView>;
  /** Accepts the watch's open proposal `id`: starts its runbook as the caller, with its normal approvals (service/runs.ts accept). */
  accept(cluster: string, id: string): Promise<Operation>;
  /** `doctor`'s rows: every node checked, read-only, through the worker. */
  doctor(cluster: string): Promise<DoctorRow[]>;
  close(): Promise<void>;
}
