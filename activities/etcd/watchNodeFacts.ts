import type { NodeFacts } from '../../domain/watch';
import type { ClusterOps } from '../cluster';
import { certificatesIn } from '../doctor/checks';
import { rethrowCancellation } from '../errors';
import { clockOffset } from '../node/clock';
import { freeBytes } from '../node/disk';

/** How long a node's facts are reused (ms): certificates, disk and clocks change over hours, a probe runs every 15 s. */
export const NODE_FACTS_TTL_MS = 5 * 60_000;

const cache = new Map<string, NodeFacts>();

/** The certificates the inventory names, by role: the CA, and the member's server, peer and client certificates. */
const certPaths = (ops: ClusterOps) => {
  const t = ops.inv.tls;
  return [['ca', t.caFile], ['server', t.serverCertFile], ['peer', t.peerCertFile], ['client', t.clientCertFile]] as const;
};

/**
 * A member node's slow-changing facts for the watch, read over SSH at most every NODE_FACTS_TTL_MS
 * per node (cached in the worker process): each certificate's leaf expiry, free bytes on the data
 * dir's filesystem, and the node's clock against this host (`date +%s%N` halfway through the
 * round trip, ± half of it). A read that fails leaves its fact out (the probe never fails on it).
 * Read-only. Source: the `doctor` checks (activities/doctor/run.ts) at the watch's cadence.
 */
export async function nodeFacts(ops: ClusterOps, node: string, now = Date.now()): Promise<NodeFacts> {
  const key = `${ops.inv.cluster} ${node}`;
  const cached = cache.get(key);
  if (cached && now - cached.at < NODE_FACTS_TTL_MS) return cached;
  const facts: NodeFacts = { at: now, certs: [] };
  const guard = async (read: () => Promise<void>) => { try { await read(); } catch (e) { rethrowCancellation(e); } };
  await guard(async () => { const c = await clockOffset(ops, node); facts.clock = { offsetMs: c.offsetMs, errorMs: c.errorMs }; });
  await guard(async () => { facts.dataDirFree = await freeBytes(ops, node, ops.node(node).etcd.dataDir); });
  for (const [role, path] of certPaths(ops)) {
    await guard(async () => {
      const r = await ops.run(node, ['cat', '--', path], { timeoutMs: 8_000 });
      if (r.exitCode === 0) facts.certs.push({ role, notAfter: new Date(certificatesIn(r.stdout)[0].validTo).getTime() });
    });
  }
  cache.set(key, facts);
  return facts;
}
