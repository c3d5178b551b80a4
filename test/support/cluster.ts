import type { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { memberClient } from './etcd';
import { onNodeStatus } from './lab';

/** What one member's own endpoint says, asked from the host over TLS (never through SSH). */
export interface MemberView { node: string; serving: boolean; clusterId?: string; leader?: string; members?: string[]; dbSize?: number }

/** Each node's member asked directly: status and member list (names, learners marked), or not serving. */
export async function clusterView(inv: Inventory, nodes = inv.nodes.map((n) => n.name)): Promise<MemberView[]> {
  return Promise.all(nodes.map(async (node) => {
    const c = memberClient(inv, node);
    try {
      const st = await withTimeout(c.maintenance.status(), 4000);
      const list = await withTimeout(c.cluster.memberList({ linearizable: false }), 4000);
      const members = list.members!.map((m) => `${m.name || m.ID}${m.isLearner ? '(learner)' : ''}`).sort();
      return { node, serving: true, clusterId: st.header!.cluster_id, leader: st.leader, members, dbSize: Number(st.dbSize) };
    } catch {
      return { node, serving: false };
    } finally {
      c.close();
    }
  }));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
}

/**
 * The invariants every fault case asserts from etcd itself: one cluster (every serving member
 * reports the same cluster ID and member list), no learner left behind, at least `minVoters`
 * serving voters, and no `--force-new-cluster` left on any node that answers SSH. Returns the view.
 */
export async function expectSafe(inv: Inventory, minVoters: number): Promise<MemberView[]> {
  const view = await clusterView(inv);
  const serving = view.filter((v) => v.serving && v.members!.some((m) => m === v.node));
  const ids = new Set(serving.map((v) => v.clusterId));
  const lists = new Set(serving.map((v) => v.members!.join(',')));
  if (ids.size > 1 || lists.size > 1) throw new Error(`two clusters: ${JSON.stringify(serving)}`);
  const members = serving[0]?.members ?? [];
  if (members.some((m) => m.endsWith('(learner)'))) throw new Error(`a learner was left behind: ${members.join(',')}`);
  if (serving.length < minVoters) throw new Error(`only ${serving.length} serving voters (${serving.map((v) => v.node).join(',')}), want at least ${minVoters}`);
  for (const n of inv.nodes.map((x) => x.name)) {
    if (onNodeStatus(n, 'test -e /etc/systemd/system/etcd.service.d/etcd-runbooks-force-new-cluster.conf') === 0) throw new Error(`${n} still has the --force-new-cluster drop-in`);
  }
  return view;
}

/** Writes about `mebibytes` MiB as 1 MiB values under `prefix` (etcd's request limit is 1.5 MiB), 4 at a time. */
export async function writeBulk(client: Etcd3, prefix: string, mebibytes: number): Promise<void> {
  const value = Buffer.alloc(1 << 20, 'e');
  for (let i = 0; i < mebibytes; i += 4) {
    await Promise.all(Array.from({ length: Math.min(4, mebibytes - i) }, (_, j) => client.put(`${prefix}${String(i + j).padStart(5, '0')}`).value(value).exec()));
  }
}
