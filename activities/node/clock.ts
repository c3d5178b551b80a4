import type { ClusterOps } from '../cluster';

/** This host's clock against the node's (ms): `date +%s%N` there, taken as halfway through the round trip here; `errorMs` is half the round trip. */
export async function clockOffset(ops: ClusterOps, node: string): Promise<{ node: string; offsetMs: number; errorMs: number }> {
  const t0 = Date.now();
  const r = await ops.runOk(node, ['date', '+%s%N'], { timeoutMs: 8_000 });
  const t1 = Date.now();
  return { node, offsetMs: Number(BigInt(r.stdout.trim()) / 1_000_000n) - (t0 + t1) / 2, errorMs: (t1 - t0) / 2 };
}
