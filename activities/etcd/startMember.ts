import { stuckPublishing } from '../../domain/publishStall';
import { memberStartTimeoutMs } from '../../domain/scale';
import type { MemberId } from '../../domain/memberId';
import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { dataDirState } from '../node/dataDir';
import { runtimeOf } from '../runtime';
import { clusterState, memberList } from './reads';

/**
 * How long a starting member may stay `activating` before its log is checked for the stuck publish
 * loop (ms). A member stuck that way logs hundreds of failures a second; one waiting for its leader
 * or its database logs one per 7 s publish timeout, so 20 s is enough to tell them apart.
 */
const STUCK_AFTER_MS = 20_000;

/** What startMember found: the member's ID, the runtime's state, and whether the stuck-publish restart ran. */
export interface MemberStarted { memberId: MemberId; service: string; restartedStuckPublish?: true }

/**
 * Starts etcd on `node` and waits until its member has started: it has published its name (etcd
 * 3.4-3.6 serve clients only after that) and its own endpoint answers status. Already running ->
 * only the wait. Refuses a node whose peer URL is not in the member list (add it first) and a data
 * dir with data while the member never started (data from elsewhere: move it aside first).
 *
 * The checks before the start are one member list and one SSH round trip, in parallel: a member
 * that starts soon after its `member add` usually publishes itself at once, while one started
 * about a second later often waits one publish timeout (7 s) first. The leader then tends to apply
 * the new member's publish request before it cuts the snapshot the member joins through, so the
 * member skips that entry (its index is at or under the snapshot's consistent index) and its wait
 * for it times out (etcd server.go applyEntryNormal, publishV3; etcd issue #16436). Measured in
 * bench/ (README, Benchmarks).
 *
 * A member still starting after STUCK_AFTER_MS whose log shows it stuck publishing itself
 * (domain/publishStall.ts) is restarted, once; the result says so. The wait grows with the
 * database size (domain/scale.ts). Source: reference 000 §5; etcd docs "Runtime reconfiguration".
 */
export async function startMember(ops: ClusterOps, node: string): Promise<MemberStarted> {
  const spec = ops.node(node).etcd;
  const rt = runtimeOf(ops);
  const [service, view, dir] = await Promise.all([rt.state(node), memberList(ops), dataDirState(ops, node)]);
  if (service !== 'active') {
    const m = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
    if (!m) throw new PreconditionError(`${node}: not a member of the cluster; add it before starting etcd`);
    if (m.name === '' && dir === 'nonempty') {
      throw new PreconditionError(`${node}: data dir ${spec.dataDir} is not empty but the member never started; move it aside first`);
    }
    await rt.start(node);
  }
  // A joining member first receives the leader's database: the wait grows with its size.
  const dbBytes = Math.max(0, ...(await clusterState(ops)).members.map((m) => m.status?.dbSize ?? 0));
  const since = Date.now();
  let lastLogCheck = since;
  let restarted = false;
  return ops.waitFor(`${node}: member started`, memberStartTimeoutMs(dbBytes, 90_000), 250, async () => {
    const svc = await rt.state(node);
    if (svc === 'failed') throw new PreconditionError(`${node}: etcd failed to start: ${await rt.log(node)}`);
    // Not ready yet (systemd: no READY=1 notification; kubeadm: container not running its args):
    // a status read now would hang on a port that listens but does not serve.
    if (svc === 'activating') {
      // A learner that has not published itself cannot vote or serve: restarting it is harmless.
      if (!restarted && Date.now() - since > STUCK_AFTER_MS && Date.now() - lastLogCheck > 5_000) {
        lastLogCheck = Date.now();
        if (stuckPublishing(await rt.log(node, 60))) {
          restarted = true;
          await rt.stop(node);
          await rt.start(node);
        }
      }
      return undefined;
    }
    const state = await clusterState(ops);
    const m = state.members.find((x) => x.peerURLs.includes(spec.peerURL));
    return m && m.name === spec.memberName && m.status ? { memberId: m.id, service: svc, ...(restarted ? { restartedStuckPublish: true as const } : {}) } : undefined;
  }, () => `${rt.where} on ${node}`);
}
