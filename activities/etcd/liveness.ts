import { Socket } from 'node:net';
import type { MemberLiveness } from '../../domain/liveness';
import { shScript } from '../ssh/quote';
import type { ClusterOps } from '../cluster';
import { rethrowCancellation } from '../errors';
import { parseMemberList, type EndpointStatus } from './parse';
import { endpointStatusOfEach } from './statusEach';

/** True when a TCP connection to host:port opens within `timeoutMs` (from the worker). */
export function tcpOpen(url: string, timeoutMs = 1500): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, u.hostname.replace(/^\[|\]$/g, ''), () => done(true));
  });
}

/** One SSH probe of the node (`true`, 8 s): whether it answered, and the first line of why not. */
export async function sshAnswers(ops: ClusterOps, node: string): Promise<{ ok: boolean; error?: string }> {
  try {
    await ops.runOk(node, ['true'], { timeoutMs: 8_000 });
    return { ok: true };
  } catch (e) {
    rethrowCancellation(e);
    return { ok: false, error: (e as Error).message.split('\n')[0].slice(0, 160) };
  }
}

/**
 * Liveness of each named node's member, asked of etcd itself: SSH is tried on every node (in
 * parallel, judged apart); `endpoint status` of the members' client URLs over TLS from the nodes
 * that answer (askEveryMember); from the worker, TCP connects to every client and peer port; and
 * each member that gave a status is asked for its own member list (served without quorum).
 * Read-only. Source: the safety rule "judge a member by asking etcd (its client URL)"; reference 000 §3.
 */
export async function probeLiveness(ops: ClusterOps, nodes: string[]): Promise<MemberLiveness[]> {
  const specs = nodes.map((n) => ops.node(n));
  const tcpOf = Promise.all(specs.map(async (n) => ({ client: await tcpOpen(n.etcd.clientURL), peer: await tcpOpen(n.etcd.peerURL) })));
  const ssh = await Promise.all(specs.map((n) => sshAnswers(ops, n.name)));
  const observers = specs.filter((_, i) => ssh[i].ok).map((n) => n.name);
  // Each member that answers is asked for its member list as soon as one observer sees it.
  const lists = new Map<string, Promise<string[] | undefined>>();
  const seen = await askEveryMember(ops, specs.map((n) => ({ node: n.name, url: n.etcd.clientURL })), observers, (observer, url) => {
    if (!lists.has(url)) lists.set(url, localVoterIds(ops, observer, url));
  });
  const tcp = await tcpOf;
  const out: MemberLiveness[] = [];
  for (const [i, n] of specs.entries()) {
    const views = seen.flatMap((v) => v.statuses.filter((s) => s.endpoint === n.etcd.clientURL).map((s) => ({ observer: v.observer, s })));
    const seenBy = views.filter((v) => v.observer !== n.name).map((v) => v.observer);
    const s = views[0]?.s;
    const m: MemberLiveness = { node: n.name, ssh: ssh[i], seenBy, selfSeen: views.some((v) => v.observer === n.name), workerTcp: tcp[i] };
    if (s) {
      m.status = { memberId: s.memberId, clusterId: s.clusterId, leader: s.leader, raftTerm: s.raftTerm, raftIndex: s.raftIndex, raftAppliedIndex: s.raftAppliedIndex, revision: s.revision, isLearner: s.isLearner, version: s.version, dbSize: s.dbSize, dbSizeInUse: s.dbSizeInUse, ...(s.dbSizeQuota ? { dbSizeQuota: s.dbSizeQuota } : {}) };
      const ids = await lists.get(n.etcd.clientURL);
      if (ids) m.voterIds = ids;
    }
    out.push(m);
  }
  return out;
}

/** The statuses one observer node got, by etcdctl over the network (or over its own member's URL). */
interface ObserverView { observer: string; statuses: EndpointStatus[] }

/**
 * `endpoint status` of every member's client URL, asked from as few observer nodes as settle it: the
 * first observer asks every member and a second asks the first's own member, so on a healthy cluster
 * each member is seen by a node other than its own in one round of N + 1 etcdctl processes, not
 * N x N. A member not seen that way is then asked from every observer that has not asked it yet
 * (its own node included: `selfSeen`), so a partial partition is judged as if every node had asked
 * every member. `onSeen` is called for each status as it arrives. Read-only; an observer whose
 * command fails counts as having seen nothing.
 */
async function askEveryMember(ops: ClusterOps, members: { node: string; url: string }[], observers: string[], onSeen: (observer: string, url: string) => void): Promise<ObserverView[]> {
  const views: ObserverView[] = [];
  const asked = new Set<string>();
  const ask = async (observer: string, urls: string[]) => {
    if (!urls.length) return;
    urls.forEach((u) => asked.add(`${observer} ${u}`));
    const statuses = await endpointStatusOfEach(ops, observer, urls).catch((e) => { rethrowCancellation(e); return [] as EndpointStatus[]; });
    views.push({ observer, statuses });
    statuses.forEach((x) => onSeen(observer, x.endpoint));
  };
  const [first, second] = observers;
  const firstOwn = members.filter((m) => m.node === first).map((m) => m.url);
  await Promise.all([first ? ask(first, members.map((m) => m.url)) : undefined, second ? ask(second, firstOwn) : undefined]);
  const seenByOther = (m: { node: string; url: string }) => views.some((v) => v.observer !== m.node && v.statuses.some((s) => s.endpoint === m.url));
  const missing = members.filter((m) => !seenByOther(m));
  await Promise.all(observers.map((o) => ask(o, missing.filter((m) => !asked.has(`${o} ${m.url}`)).map((m) => m.url))));
  return views;
}

/**
 * The voting members in the member list the member at `url` holds itself, asked from `observer`:
 * serializable (`--consistency=s`, etcdctl 3.6), so a member without quorum answers at once instead
 * of after the probe timeout; an etcdctl without the flag (3.4, whose member list is local anyway;
 * 3.5) is asked without it. Undefined when the member does not answer.
 */
async function localVoterIds(ops: ClusterOps, observer: string, url: string): Promise<string[] | undefined> {
  const ask = (flags: string[]) => ops.etcdctlProbe(observer, [url], ['-w', 'json', 'member', 'list', ...flags]).catch((e) => { rethrowCancellation(e); return undefined; });
  let list = await ask(['--consistency=s']);
  if (list && list.exitCode !== 0 && /unknown flag/.test(list.stderr)) list = await ask([]);
  return list?.exitCode === 0 ? parseMemberList(list.stdout).members.filter((x) => !x.isLearner).map((x) => x.id) : undefined;
}

/** What the survivor's node sees of another member right before --force-new-cluster. */
export interface FromSurvivor { node: string; clientAnswers: boolean; peerPortOpen: boolean; workerTcp: { client: boolean; peer: boolean } }

/**
 * From the survivor's node: does each other member answer `endpoint status` on its client URL, and
 * does its peer port accept TCP (bash /dev/tcp, 2 s)? From the worker: TCP to both ports. A member
 * is proven not serving only when all four are no. Read-only. Source: reference 001 and 004 (every
 * other member must be down before --force-new-cluster, or there are two clusters).
 */
export async function viewFromSurvivor(ops: ClusterOps, survivor: string, others: string[]): Promise<FromSurvivor[]> {
  const out: FromSurvivor[] = [];
  for (const o of others) {
    const e = ops.node(o).etcd;
    const st = await ops.etcdctlProbe(survivor, [e.clientURL], ['-w', 'json', 'endpoint', 'status']);
    const peer = new URL(e.peerURL);
    const t = await ops.run(survivor, shScript('timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && echo open || echo closed', peer.hostname, peer.port || '2380'));
    out.push({ node: o, clientAnswers: st.exitCode === 0 && st.stdout.trim().length > 2, peerPortOpen: t.stdout.trim() === 'open', workerTcp: { client: await tcpOpen(e.clientURL), peer: await tcpOpen(e.peerURL) } });
  }
  return out;
}
