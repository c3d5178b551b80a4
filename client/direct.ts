import type { Actor } from '../domain/identity';
import type { RunService } from '../service/runs';
import type { CliRuns, StatusView } from './port';

/**
 * CliRuns served by the service layer in this process, as `actor` (the OS user with the roles
 * the root-owned policy gives; client/service.ts). Only root takes this path: it signs with the
 * `cli` key and talks to Temporal with the client certificate, both readable by root alone.
 */
export function directRuns(service: RunService, actor: Actor, close: () => Promise<void>): CliRuns {
  return {
    principal: actor.principal,
    start: async (name, cluster, fields, o) => (await service.start(actor, name, cluster, fields, { approvedUpFront: o.approvedUpFront })).operation,
    get: (cluster, runId) => service.get(actor, cluster, runId),
    approve: (cluster, step, runId) => service.approve(actor, cluster, step, { runId }),
    reject: (cluster, step, reason, runId) => service.reject(actor, cluster, step, reason, { runId }),
    cancel: (cluster, reason, runId) => service.cancel(actor, cluster, reason, runId),
    list: (cluster, limit) => service.list(actor, cluster, limit),
    status: async (cluster): Promise<StatusView> => {
      const [state, recoveryPoint] = await Promise.all([service.status(actor, cluster), service.recoveryPoint(actor, cluster)]);
      return { ...state, recoveryPoint };
    },
    proposals: (cluster) => service.proposals(actor, cluster),
    accept: async (cluster, id) => (await service.accept(actor, cluster, id)).operation,
    doctor: (cluster) => service.doctor(actor, cluster),
    close,
  };
}
