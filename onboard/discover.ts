import { etcdctlCommand } from '../activities/cluster';
import { NodeSession } from '../activities/ssh/session';
import { presentedHostKey } from '../activities/ssh/hostKey';
import { findClientCertificate, readMemberConfig, type MemberConfig, type NodeShell } from '../activities/runtime/discover';
import { findKubeadmConfigFiles, readKubeTopology } from '../activities/kube/topology';
import { parseEndpointStatus, parseMemberList } from '../activities/etcd/parse';
import type { Member } from '../domain/members';

/** Where discover starts: `user@host[:port]` of an etcd node. */
export interface SshAddress { user: string; host: string; port: number }

/** Parses `user@host[:port]` (`[v6]:port` for IPv6). Throws naming the expected shape. */
export function parseSshAddress(text: string): SshAddress {
  const m = /^([a-z_][a-z0-9_-]*)@(\[[0-9a-fA-F:]+\]|[^:@\s]+)(?::([0-9]{1,5}))?$/.exec(text);
  if (!m) throw new Error(`--from: want USER@HOST[:PORT], got ${JSON.stringify(text)}`);
  return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : 22 };
}

/** What discover is told. `trustHostKey` throws when the operator (or their known_hosts) does not vouch for a key. */
export interface DiscoverOptions {
  from: SshAddress;
  /** The private key discover connects with (readable here). */
  keyFile: string;
  /** The key's path where the worker runs, written into the inventory (default: keyFile). */
  keyPathForWorker?: string;
  cluster: string;
  backupDir: string;
  unit?: string;
  /** The kubeadm config file on each control-plane node (default: looked for, BCM's first). */
  kubeadmConfig?: string;
  client?: { certFile: string; keyFile: string };
  trustHostKey: (host: string, port: number, fingerprint: string) => Promise<void>;
  log?: (line: string) => void;
}

/** One etcd node as found: its member, how it runs, its SSH pin and the version it serves. */
export interface FoundNode { name: string; ssh: SshAddress & { fingerprint: string }; member: Member; config: MemberConfig; version?: string; leader: boolean }

/** What discover read, before it becomes an inventory (onboard/inventoryYaml.ts). */
export interface Discovery {
  cluster: string;
  backupDir: string;
  keyPath: string;
  clientCert: { certFile: string; keyFile: string };
  nodes: FoundNode[];
  /** Settings on every member with the same value (memberSettings), and those that differ (left out). */
  sharedSettings: Record<string, string>;
  differingSettings: string[];
  /** The external-etcd control plane, when a kubeadm-config ConfigMap lists these members. */
  kubernetes?: { controlPlanes: Array<{ name: string; ssh?: SshAddress & { fingerprint: string } }>; kubeadmConfig: string };
  /** Members left out (unstarted, or with a name no inventory can hold), with why. */
  skipped: string[];
}

/** Raised when the cluster cannot be described as one inventory; the message says what differs or is missing. */
export class DiscoverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoverError';
  }
}

const SAFE_NAME = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;

/**
 * Reads a running cluster from one of its nodes and everything an inventory needs: `etcdctl member
 * list` and `endpoint status` on the first node, then on each member's node (reached at its peer
 * URL's host, host key confirmed through `trustHostKey`) its unit and environment file or static
 * pod manifest; with external etcd, the kubeadm-config ConfigMap and the control-plane nodes.
 * Read-only on every node. Throws DiscoverError when members disagree on something the inventory
 * holds once (runtime, TLS paths, unit), naming the member.
 */
export async function discoverCluster(o: DiscoverOptions): Promise<Discovery> {
  const log = o.log ?? (() => undefined);
  const sessions: NodeSession[] = [];
  const conns = new Map<string, Promise<{ shell: NodeShell; pin: SshAddress & { fingerprint: string } }>>();
  /** One connection per host:port, its host key confirmed once. */
  const connect = (label: string, addr: SshAddress) => {
    const key = `${addr.host}:${addr.port}`;
    let c = conns.get(key);
    if (!c) {
      c = (async () => {
        const fingerprint = await presentedHostKey(addr.host, addr.port);
        await o.trustHostKey(addr.host, addr.port, fingerprint);
        const session = new NodeSession(label, { host: addr.host, port: addr.port, user: addr.user, hostKeyFingerprint: fingerprint, privateKeyPath: o.keyFile });
        sessions.push(session);
        return { shell: ((argv) => session.exec(argv, { timeoutMs: 30_000 })) as NodeShell, pin: { user: addr.user, host: addr.host, port: addr.port, fingerprint } };
      })();
      conns.set(key, c);
    }
    return c;
  };
  try {
    const first = await connect(o.from.host, o.from);
    const firstConfig = await readMemberConfig(first.shell, { unit: o.unit });
    log(`${o.from.host}: etcd runs as ${firstConfig.source}, member ${firstConfig.memberName}`);
    const clientCert = o.client ?? await findClientCertificate(first.shell, firstConfig.tls.caFile);
    if (!clientCert) throw new DiscoverError(`no client certificate found on ${o.from.host} (kube-apiserver's --etcd-certfile, or client.crt / healthcheck-client.crt beside ${firstConfig.tls.caFile}): give --client-cert and --client-key`);
    const client = { caFile: firstConfig.tls.caFile, clientCertFile: clientCert.certFile, clientKeyFile: clientCert.keyFile };
    const etcdctl = (endpoints: string[], args: string[]) => first.shell(etcdctlCommand(client, endpoints, ['-w', 'json', ...args]));
    const listed = await etcdctl(firstConfig.clientURLs, ['member', 'list']);
    if (listed.exitCode !== 0) throw new DiscoverError(`etcdctl member list on ${o.from.host} at ${firstConfig.clientURLs.join(',')}: ${listed.stderr.trim().split('\n').pop()}`);
    const { members } = parseMemberList(listed.stdout);
    const statuses = parseEndpointStatus((await etcdctl(members.flatMap((m) => m.clientURLs.slice(0, 1)), ['endpoint', 'status'])).stdout || '[]');
    const leaderId = statuses.find((s) => s.leader !== '0')?.leader;

    const skipped: string[] = [];
    const nodes: FoundNode[] = [];
    // Host keys are asked for in name order (the member list is in ID order).
    for (const m of [...members].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
      if (!m.name || !m.peerURLs.length || !m.clientURLs.length) { skipped.push(`member ${m.id}: not started yet (no name or client URL): finish or remove it first`); continue; }
      if (!SAFE_NAME.test(m.name)) { skipped.push(`member ${m.id} "${m.name}": not a name an inventory node can have (lowercase DNS label)`); continue; }
      const host = new URL(m.peerURLs[0]).hostname.replace(/^\[|\]$/g, '');
      const at = m.name === firstConfig.memberName ? first : await connect(m.name, { ...o.from, host });
      const config = at.shell === first.shell ? firstConfig : await readMemberConfig(at.shell, { unit: o.unit });
      if (config.memberName !== m.name) throw new DiscoverError(`${host} configures member ${config.memberName}, but the member with peer URL ${m.peerURLs[0]} is ${m.name}`);
      const version = statuses.find((s) => s.memberId === m.id)?.version;
      nodes.push({ name: m.name, ssh: at.pin, member: m, config, version, leader: m.id === leaderId });
      log(`${m.name}: ${host}, ${config.source}, etcd ${version ?? '(no answer)'}${m.isLearner ? ', learner' : ''}`);
    }
    if (!nodes.length) throw new DiscoverError('no started member found');
    nodes.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
    sameEverywhere(nodes, 'runtime', (n) => n.config.runtime);
    sameEverywhere(nodes, 'TLS files', (n) => JSON.stringify(n.config.tls));
    sameEverywhere(nodes, 'systemd unit, environment file and user', (n) => JSON.stringify(n.config.systemd ?? null));

    const keys = new Set(nodes.flatMap((n) => Object.keys(n.config.settings)));
    const sharedSettings: Record<string, string> = {};
    const differingSettings: string[] = [];
    for (const k of [...keys].sort()) {
      const values = new Set(nodes.map((n) => n.config.settings[k]));
      if (values.size === 1 && [...values][0] !== undefined) sharedSettings[k] = [...values][0]!;
      else differingSettings.push(k);
    }

    let kubernetes: Discovery['kubernetes'];
    if (firstConfig.runtime === 'systemd') {
      const clientURLs = new Set(nodes.map((n) => n.member.clientURLs[0]));
      for (const n of nodes) {
        const at = await connect(n.name, n.ssh);
        const topo = await readKubeTopology(at.shell);
        if (!topo?.externalEndpoints.some((e) => clientURLs.has(e))) continue;
        const configs = o.kubeadmConfig ? [o.kubeadmConfig] : await findKubeadmConfigFiles(at.shell);
        if (!configs.length) throw new DiscoverError(`${n.name} is a control-plane node of a Kubernetes cluster on these members, but keeps no kubeadm config file (looked for /root/.kube/kubeadm-init-*.yaml, /etc/kubernetes/kubeadm-config.yaml, /etc/kubernetes/kubeadm.yaml): give --kubeadm-config PATH`);
        const controlPlanes: NonNullable<Discovery['kubernetes']>['controlPlanes'] = [];
        for (const cp of topo.controlPlanes) {
          const etcdNode = nodes.find((x) => x.ssh.host === cp.address || x.name === cp.name);
          if (etcdNode) { controlPlanes.push({ name: etcdNode.name }); continue; }
          controlPlanes.push({ name: cp.name, ssh: (await connect(cp.name, { ...o.from, host: cp.address })).pin });
        }
        log(`Kubernetes: external etcd of control planes ${controlPlanes.map((c) => c.name).join(', ')} (read on ${n.name}; kubeadm config ${configs[0]})`);
        kubernetes = { controlPlanes, kubeadmConfig: configs[0] };
        break;
      }
    }
    return { cluster: o.cluster, backupDir: o.backupDir, keyPath: o.keyPathForWorker ?? o.keyFile, clientCert, nodes, sharedSettings, differingSettings, kubernetes, skipped };
  } finally {
    for (const s of sessions) s.close();
  }
}

function sameEverywhere(nodes: FoundNode[], what: string, pick: (n: FoundNode) => string): void {
  const first = pick(nodes[0]);
  const other = nodes.find((n) => pick(n) !== first);
  if (other) throw new DiscoverError(`members differ in their ${what}: ${nodes[0].name} has ${first}, ${other.name} has ${pick(other)}; an inventory holds one for the whole cluster`);
}
