import type { MemberSpec } from '../../domain/members';
import type { ClusterState } from '../etcd/reads';
import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import type { ClusterInput } from '../wrap';

/** Input of every per-node step. `node` is an inventory node name. */
export interface NodeInput extends ClusterInput { node: string }

/** What the inventory says the node's member is: name, peer and client URL, data dir. */
export function specOf(ops: ClusterOps, node: string): MemberSpec {
  const n = ops.node(node);
  return { node: n.name, name: n.etcd.memberName, peerURL: n.etcd.peerURL, clientURL: n.etcd.clientURL, dataDir: n.etcd.dataDir };
}

/** The node's member in a cluster state (matched by its inventory peer URL), if it is one. */
export function memberOfNode(state: ClusterState, ops: ClusterOps, node: string) {
  const spec = specOf(ops, node);
  return state.members.find((m) => m.peerURLs.includes(spec.peerURL));
}

const TAG = /^[A-Za-z0-9._-]+$/;
/** A run's tag goes into file names on the nodes: letters, digits, `.`, `_`, `-` only. Throws PreconditionError. */
export function checkTag(tag: string): void {
  if (!TAG.test(tag)) throw new PreconditionError(`bad tag ${JSON.stringify(tag)}`);
}
