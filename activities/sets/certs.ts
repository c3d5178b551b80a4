import { PreconditionError } from '../errors';
import { clusterState, inInventoryOrder } from '../etcd/reads';
import { servedCertificate, type CertInfo } from '../node/certs';
import { runtimeOf } from '../runtime';
import { clusterActivity, type ActivityDeps } from '../wrap';
import { checkTag, type NodeInput } from './common';
import { foreignProblems } from '../../domain/oneCluster';

/** The activities of certificate rotation: what each member serves, one member renewed, one member put back. */
export function certActivities(deps: ActivityDeps) {
  return {
    /**
     * For each voting member in inventory order: the certificates its client and peer URLs serve
     * (expiry, SANs) and whether it is healthy; why the runtime cannot renew them
     * (MemberRuntime.certRenewalProblem) and, when it is not `--days`, how it sets their validity.
     * Read-only (node/certs.ts).
     */
    inspectCerts: clusterActivity(deps, async (ops) => {
      const state = await clusterState(ops);
      const rt = runtimeOf(ops);
      const problems = [...foreignProblems(state.foreign), ...(rt.certRenewalProblem ? [rt.certRenewalProblem] : [])];
      const members = await Promise.all(inInventoryOrder(ops, state.members.filter((m) => !m.isLearner)).map(async (m) => {
        const n = ops.inv.nodes.find((x) => m.peerURLs.includes(x.etcd.peerURL));
        if (!n) return { node: m.name || m.id, healthy: m.healthy, error: 'on no inventory node' };
        const read = (url: string) => servedCertificate(ops, n.name, url).catch((e: Error) => ({ error: e.message.slice(0, 160) }));
        const [server, peer] = await Promise.all([read(n.etcd.clientURL), read(n.etcd.peerURL)]);
        return { node: n.name, healthy: m.healthy, server, peer };
      }));
      return { members, problems, ...(rt.certValidity ? { validity: rt.certValidity } : {}) };
    }),

    /**
     * Renews the node's server, peer and client certificates through its runtime
     * (MemberRuntime.renewCerts: systemd signs them on the worker with the inventory's CA, kubeadm
     * runs `kubeadm certs renew` and restarts the node's apiserver), then reads what its client and
     * peer URLs serve on a new handshake: each must be the renewed certificate.
     */
    rotateMemberCerts: clusterActivity(deps, async (ops, input: NodeInput & { days: number; tag: string }) => {
      checkTag(input.tag);
      const n = ops.node(input.node);
      const renewed = await runtimeOf(ops).renewCerts(input.node, input.days, input.tag);
      const served: Record<'server' | 'peer', CertInfo> = { server: await servedCertificate(ops, input.node, n.etcd.clientURL), peer: await servedCertificate(ops, input.node, n.etcd.peerURL) };
      for (const kind of ['server', 'peer'] as const) {
        const want = renewed.find((r) => r.kind === kind)!.after;
        if (served[kind].notAfter !== want) throw new PreconditionError(`${input.node}: its ${kind} URL still serves a certificate expiring ${served[kind].notAfter}, not the renewed one (${want})`);
      }
      return { node: input.node, renewed, served };
    }),

    /** Puts back the node's certificates kept by rotateMemberCerts(…, tag) (MemberRuntime.restoreCerts). */
    restoreMemberCerts: clusterActivity(deps, async (ops, input: NodeInput & { tag: string }) => {
      checkTag(input.tag);
      return { node: input.node, restored: await runtimeOf(ops).restoreCerts(input.node, input.tag) };
    }),
  };
}
