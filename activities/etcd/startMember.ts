import { PUBLISH_STALL_LINES, publishSwallowedBySnapshot, stuckPublishing } from '../../domain/publishStall';
import { memberStartTimeoutMs } from '../../domain/scale';
import type { MemberId } from '../../domain/memberId';
import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { SshError } from '../ssh/session';
import { dataDirState } from '../node/dataDir';
import { runtimeOf } from '../runtime';
import { memberList, memberStatuses } from './reads';
import { endpointStatusOfEach } from './statusEach';

/**
 * How long a starting member may stay `starting` before its log is checked for the stuck publish
 * loop (ms). A member stuck that way logs hundreds of failures a second; one waiting for its leader
 * or its database logs one per 7 s publish timeout, so 20 s is enough to tell them apart.
 */
const STUCK_AFTER_MS = 20_000;

/**
 * How long a member may show a snapshot applied and no publish of its own, while the leader's
 * member list already has its name, before it is restarted (ms): a member that publishes normally
 * logs it within milliseconds of the snapshot.
 */
const SWALLOWED_AFTER_MS = 500;

/** Lines of etcd's log read to find its last start: about 150 from the start to the snapshot, with three peers. */
const START_LOG_LINES = 600;

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
 * bench/ (docs/tests.md, Benchmarks).
 *
 * Two ways a start stalls on that race are ended by a restart, each once; the result says so. Under
 * the systemd runtime, a member whose log shows the snapshot applied and no publish of its own for SWALLOWED_AFTER_MS,
 * while the leader's member list already has its name, had its publish request applied inside the
 * snapshot: restarted at once instead of after the 7 s publish timeout (after a restart it holds the
 * snapshot and catches up from the leader's log, so it publishes at once). A member still starting
 * after STUCK_AFTER_MS whose log shows it stuck publishing itself is restarted too
 * (domain/publishStall.ts). A learner that has not published itself neither votes nor serves:
 * restarting it is harmless. The wait grows with the database size (domain/scale.ts).
 * Source: reference 000 §5; etcd docs "Runtime reconfiguration".
 */
export async function startMember(ops: ClusterOps, node: string): Promise<MemberStarted> {
  const spec = ops.node(node).etcd;
  const rt = runtimeOf(ops);
  // The database size (the wait grows with it) is read while the node's etcd is still down: once
  // it starts, its port accepts connections it does not serve, and a status read there waits out
  // its timeout (3 s) while the start is not watched.
  const sizes = memberStatuses(ops);
  sizes.catch(() => undefined);
  const [service, view, dir] = await Promise.all([rt.state(node), memberList(ops), dataDirState(ops, node)]);
  if (service !== 'running') {
    const m = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
    if (!m) throw new PreconditionError(`${node}: not a member of the cluster; add it before starting etcd`);
    if (m.name === '' && dir === 'nonempty') {
      throw new PreconditionError(`${node}: data dir ${spec.dataDir} is not empty but the member never started; move it aside first`);
    }
    await rt.start(node);
  }
  // A joining member first receives the leader's database: the wait grows with its size.
  // A read cut by SSH loss is asked again (now at most 3 s longer): one lost connection must not fail the start.
  const dbBytes = Math.max(0, ...(await sizes.catch((e: unknown) => { if (e instanceof SshError) return memberStatuses(ops); throw e; })).statuses.map((x) => x.dbSize));
  const since = Date.now();
  let lastLogCheck = since;
  let swallowedRestart = false;
  let stuckRestart = false;
  let swallowedSince: number | undefined;
  const restart = async () => {
    swallowedSince = undefined;
    await rt.restart(node);
  };
  // Not serving yet (starting): ends the two publish stalls by a restart (each once); the first
  // only where the runtime's restart is safe for it (MemberRuntime.restartEndsPublishStall).
  const unstall = async (named: () => Promise<boolean>) => {
    if (rt.restartEndsPublishStall && !swallowedRestart && publishSwallowedBySnapshot(await rt.log(node, START_LOG_LINES, PUBLISH_STALL_LINES))) {
      swallowedSince ??= Date.now();
      if (Date.now() - swallowedSince >= SWALLOWED_AFTER_MS && (await named())) {
        await restart();
        swallowedRestart = true;
      }
    } else {
      swallowedSince = undefined;
    }
    if (!stuckRestart && Date.now() - since > STUCK_AFTER_MS && Date.now() - lastLogCheck > 5_000) {
      lastLogCheck = Date.now();
      if (stuckPublishing(await rt.log(node, 60))) {
        await restart();
        stuckRestart = true;
      }
    }
  };
  const isNamed = (m?: { name: string }) => m?.name === spec.memberName;
  return ops.waitFor(`${node}: member started`, memberStartTimeoutMs(dbBytes, 90_000), 250, async () => {
    const svc = await rt.state(node);
    if (svc === 'failed') throw new PreconditionError(`${node}: etcd failed to start: ${await rt.log(node)}`);
    // Not ready yet (starting: systemd has no READY=1 notification; kubeadm: container not running its args):
    // a status read now would hang on a port that listens but does not serve.
    if (svc === 'starting') {
      await unstall(async () => isNamed((await memberList(ops)).members.find((x) => x.peerURLs.includes(spec.peerURL))));
      return undefined;
    }
    // Started: its name is in the member list (published) and its own endpoint answers status.
    const view = await memberList(ops);
    const own = await endpointStatusOfEach(ops, view.control, [spec.clientURL]);
    const m = view.members.find((x) => x.peerURLs.includes(spec.peerURL));
    return m && isNamed(m) && own.some((x) => x.memberId === m.id) ? { memberId: m.id, service: svc, ...(swallowedRestart || stuckRestart ? { restartedStuckPublish: true as const } : {}) } : undefined;
  }, () => `${rt.where} on ${node}`);
}
