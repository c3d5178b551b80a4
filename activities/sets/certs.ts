import { PreconditionError } from '../errors';
import { clusterState, inInventoryOrder } from '../etcd/reads';
import { CERT_KINDS, renewCertificate, restoreCertificate, servedCertificate, type CertInfo } from '../node/certs';
import { runtimeOf } from '../runtime';
import { clusterActivity, type ActivityDeps } from '../wrap';
import { checkTag, type NodeInput } from './common';

/** The activities of certificate rotation: what each member serves, one member renewed, one member put back. */
export function certActivities(deps: ActivityDeps) {
  return {
    /**
     * For each voting member in inventory order: the certificates its client and peer URLs serve
     * (expiry, SANs) and whether it is healthy; and why the certificates cannot be renewed
     * (runtime, CA). Read-only (node/certs.ts).
     */
    inspectCerts: clusterActivity(deps, async (ops) => {
      const state = await clusterState(ops);
      const problems = [runtimeOf(ops).certRenewalProblem, ops.inv.certificateAuthority ? undefined : 'the inventory names no certificateAuthority (CA certificate and key on the worker host)'].filter((p): p is string => !!p);
      const members = await Promise.all(inInventoryOrder(ops, state.members.filter((m) => !m.isLearner)).map(async (m) => {
        const n = ops.inv.nodes.find((x) => m.peerURLs.includes(x.etcd.peerURL));
        if (!n) return { node: m.name || m.id, healthy: m.healthy, error: 'on no inventory node' };
        const read = (url: string) => servedCertificate(ops, n.name, url).catch((e: Error) => ({ error: e.message.slice(0, 160) }));
        const [server, peer] = await Promise.all([read(n.etcd.clientURL), read(n.etcd.peerURL)]);
        return { node: n.name, healthy: m.healthy, server, peer };
      }));
      return { members, problems };
    }),

    /**
     * Renews the node's server, peer and client certificates (same keys and SANs, signed on the
     * worker by the inventory's CA, swapped by one rename each: node/certs.ts), then reads what
     * its client and peer URLs serve on a new handshake: each must be the renewed certificate.
     */
    rotateMemberCerts: clusterActivity(deps, async (ops, input: NodeInput & { days: number; tag: string }) => {
      checkTag(input.tag);
      const n = ops.node(input.node);
      const renewed = [];
      for (const kind of CERT_KINDS) renewed.push(await renewCertificate(ops, input.node, kind, input.days, input.tag));
      const served: Record<'server' | 'peer', CertInfo> = { server: await servedCertificate(ops, input.node, n.etcd.clientURL), peer: await servedCertificate(ops, input.node, n.etcd.peerURL) };
      for (const kind of ['server', 'peer'] as const) {
        const want = renewed.find((r) => r.kind === kind)!.after;
        if (served[kind].notAfter !== want) throw new PreconditionError(`${input.node}: its ${kind} URL still serves a certificate expiring ${served[kind].notAfter}, not the renewed one (${want})`);
      }
      return { node: input.node, renewed, served };
    }),

    /** Puts back the node's certificates kept by rotateMemberCerts(…, tag) (node/certs.ts). */
    restoreMemberCerts: clusterActivity(deps, async (ops, input: NodeInput & { tag: string }) => {
      checkTag(input.tag);
      const restored = [];
      for (const kind of CERT_KINDS) if ((await restoreCertificate(ops, input.node, kind, input.tag)).restored) restored.push(kind);
      return { node: input.node, restored };
    }),
  };
}
