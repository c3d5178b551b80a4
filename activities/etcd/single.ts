import type { MemberId } from '../../domain/memberId';
import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { runtimeOf } from '../runtime';
import { parseMemberList, type EndpointStatus } from './parse';
import { endpointStatusOfEach } from './statusEach';
import { dbFileBytes } from '../node/dataDir';
import { memberStartTimeoutMs } from '../../domain/scale';

/** A 1-member cluster as its only member reports it. */
export interface SingleMemberState { memberId: MemberId; clusterId: MemberId; peerURLs: string[]; members: number; status: EndpointStatus }

/**
 * Asks the node's own member (its client URL only): status, then member list. Undefined if it does
 * not answer; a stopped member costs no probe timeout (its refusing port is not asked).
 */
export async function ownView(ops: ClusterOps, node: string): Promise<SingleMemberState | undefined> {
  const url = ops.node(node).etcd.clientURL;
  const [status] = await endpointStatusOfEach(ops, node, [url]);
  if (!status) return undefined;
  const list = await ops.etcdctlProbe(node, [url], ['-w', 'json', 'member', 'list']);
  if (list.exitCode !== 0) return undefined;
  const ml = parseMemberList(list.stdout);
  const me = ml.members.find((m) => m.id === status.memberId);
  return { memberId: status.memberId, clusterId: ml.clusterId, peerURLs: me?.peerURLs ?? [], members: ml.members.length, status };
}

/**
 * Writes the configuration of a restored member that forms a new 1-member cluster (state `new`,
 * initial cluster = itself, the restore's cluster token), starts it, and waits until it leads
 * itself and serves reads. Source: etcd docs "Disaster recovery"; reference 001 (restore on one
 * node, then join the others); lab notes (a just-restored member may not serve for seconds).
 */
export async function startRestoredMember(ops: ClusterOps, node: string, token: string): Promise<SingleMemberState> {
  const n = ops.node(node);
  const rt = runtimeOf(ops);
  await rt.writeConfig(node, { initialCluster: `${n.etcd.memberName}=${n.etcd.peerURL}`, initialClusterState: 'new', token });
  if ((await rt.state(node)) !== 'running') await rt.start(node);
  return ops.waitFor(`${node}: restored member serving`, memberStartTimeoutMs(await dbFileBytes(ops, node)), 250, async () => {
    const svc = await rt.state(node);
    if (svc === 'failed') throw new PreconditionError(`${node}: etcd failed to start: ${await rt.log(node)}`);
    if (svc === 'starting') return undefined;
    const v = await ownView(ops, node);
    return v && v.status.leader === v.memberId ? v : undefined;
  }, () => `${node} not yet leading itself`);
}

/**
 * Makes the node's member advertise the inventory's peer URL (`member update`), e.g. after a
 * restore that advertised http://localhost:2380. Source: reference 002 ("fix the localhost peer URL").
 */
export async function ensurePeerURL(ops: ClusterOps, node: string): Promise<{ updated: boolean; before: string[] }> {
  const want = ops.node(node).etcd.peerURL;
  const v = await ownView(ops, node);
  if (!v) throw new Error(`${node}: its member does not answer`);
  if (v.peerURLs.length === 1 && v.peerURLs[0] === want) return { updated: false, before: v.peerURLs };
  await ops.runOk(node, ops.etcdctlArgv([ops.node(node).etcd.clientURL], ['member', 'update', v.memberId, `--peer-urls=${want}`]));
  return { updated: true, before: v.peerURLs };
}
