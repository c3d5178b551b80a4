import { Etcd3 } from 'etcd3';
import type { Inventory } from '../../inventory/schema';
import { labClientCredentials } from './lab';

/** An etcd3 (gRPC) client to exactly one member's client URL, so reads show that member's own data. */
export function memberClient(inv: Inventory, node: string): Etcd3 {
  const n = inv.nodes.find((x) => x.name === node);
  if (!n) throw new Error(`no node ${node}`);
  return new Etcd3({ hosts: n.etcd.clientURL, credentials: labClientCredentials(), dialTimeout: 3000 });
}

/** Writes `count` keys `<prefix>NNNN` = `value-NNNN` through one member, 50 at a time. */
export async function writeKeys(client: Etcd3, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => {
      const k = String(i + j).padStart(4, '0');
      return client.put(`${prefix}${k}`).value(`value-${k}`).exec();
    }));
  }
}

/** The member's own (serializable, member-local) view of every key under the prefix. */
export async function localKeys(client: Etcd3, prefix: string): Promise<Record<string, string>> {
  return client.getAll().prefix(prefix).serializable(true).strings();
}

/** The member's own view of the key names under the prefix (keys only: bulk values would exceed gRPC's message limit). */
export async function localKeyNames(client: Etcd3, prefix: string): Promise<string[]> {
  return client.getAll().prefix(prefix).serializable(true).keys();
}

/** Member names (learners marked), sorted, as the given member sees the member list. */
export async function memberNames(client: Etcd3): Promise<string[]> {
  return (await client.cluster.memberList({})).members!.map((m) => `${m.name}${m.isLearner ? '(learner)' : ''}`).sort();
}

/** The inventory node name of the current leader, asked of every reachable member in turn. */
export async function leaderNode(inv: Inventory, clients: Record<string, Etcd3>): Promise<string> {
  for (const c of Object.values(clients)) {
    try {
      const st = await c.maintenance.status();
      const members = (await c.cluster.memberList({})).members!;
      const leader = members.find((m) => m.ID === st.leader);
      if (leader) return inv.nodes.find((n) => n.etcd.memberName === leader.name)!.name;
    } catch {
      // that member does not answer; ask the next
    }
  }
  throw new Error('no member knows a leader');
}

/**
 * The last of `nodes` whose member is not the leader (remove-member refuses the leader at
 * pre-flight, and which member leads after an election is chance).
 */
export async function nonLeader(inv: Inventory, nodes: string[]): Promise<string> {
  const clients = Object.fromEntries(nodes.map((n) => [n, memberClient(inv, n)]));
  try {
    const leader = await leaderNode(inv, clients);
    return [...nodes].reverse().find((n) => n !== leader)!;
  } finally {
    Object.values(clients).forEach((c) => c.close());
  }
}
