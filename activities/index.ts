import type { ActivityDeps } from './wrap';
import { inspectActivities } from './sets/inspect';
import { membershipActivities } from './sets/membership';
import { backupActivities } from './sets/backup';
import { restoreActivities } from './sets/restore';
import { recoveryActivities } from './sets/recovery';
import { kubeActivities } from './sets/kube';
import { maintenanceActivities } from './sets/maintenance';
import { upgradeActivities } from './sets/upgrade';
import { certActivities } from './sets/certs';
import { watchActivities } from './sets/watch';

export type { ClusterInput } from './wrap';
export type { Step, CommandRecord } from './audit';
export type { ClusterState, MemberState } from './etcd/reads';
export type { SnapshotInfo, BackupInfo } from './etcd/snapshot';
export type { OffNodeCopy } from './node/offNode';
export type { DrillResult } from './node/drill';
export type { NodeReadiness } from '../domain/expandPlan';
export type { KubeState } from '../domain/kubeSync';
export type { DoctorRow, Verdict } from './doctor/checks';
export type { NodeInput } from './sets/common';
export type { DefragReport, DefragResult } from './etcd/defrag';

/**
 * The activities of etcd-runbooks, bound to a worker's inventories and SSH pool, one set per
 * concern (sets/). Each is idempotent (check, then act) and returns Step<T> (result + commands run,
 * for the audit trail). Their names are the activity types in every run's history: never rename one.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...inspectActivities(deps),
    ...membershipActivities(deps),
    ...backupActivities(deps),
    ...restoreActivities(deps),
    ...recoveryActivities(deps),
    ...kubeActivities(deps),
    ...maintenanceActivities(deps),
    ...upgradeActivities(deps),
    ...certActivities(deps),
    ...watchActivities(deps),
  };
}

/** The activity interface the workflows import as a type. */
export type Activities = ReturnType<typeof createActivities>;
