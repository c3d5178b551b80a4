
/** The running kube-apiserver of one control-plane node, as containerd reports it. */
export interface RunningApiserver {
  /** containerd container id (a new one after every restart). */
  containerId: string;
  /** Its --etcd-servers, split on ",". */
  etcdServers: string[];
  /** Its --advertise-address and --secure-port (where /readyz is asked). */
  advertiseAddress?: string;
  securePort?: number;
  createdAt: string;
}

/** What one control-plane node says: its running apiserver, readiness, and kubeadm config file. */
export interface ControlPlaneState {
  node: string;
  reachable: boolean;
  error?: string;
  apiserver?: RunningApiserver;
  /** GET /readyz answered "ok". */
  ready: boolean;
  /** etcd.external.endpoints of the node's kubeadm config file. */
  fileEndpoints?: string[];
  /** --etcd-servers of the static pod manifest on disk. */
  manifestEndpoints?: string[];
}

/** The control plane's view of etcd: the kubeadm-config ConfigMap and each control-plane node. */
export interface KubeState {
  enabled: boolean;
  /** Client URLs of the voting members, sorted: what everything should list. */
  desired: string[];
  configMap?: { endpoints: string[] } | { error: string };
  nodes: ControlPlaneState[];
}

/** Equal as sets (the apiserver's etcd client balances over the list; order does not matter). */
export function sameEndpoints(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === new Set(b).size && b.every((x) => sa.has(x));
}

/**
 * The endpoints the control plane should use: the client URLs of the started voting members,
 * sorted (the order etcd lists members in is by member ID, which reads as random).
 * Learners are left out (they refuse most client requests), and members that never started
 * (no client URL yet). Source: reference 000 §6; etcd docs "Runtime reconfiguration" (learners).
 */
export function desiredEndpoints(members: readonly { isLearner: boolean; clientURLs: string[] }[]): string[] {
  return members.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs).sort();
}

/** `--etcd-servers` (and the address /readyz is asked at) from an apiserver's argv. */
export function parseApiserverArgs(args: readonly string[]): { etcdServers: string[]; advertiseAddress?: string; securePort?: number } {
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const servers = flag('etcd-servers');
  const port = flag('secure-port');
  return {
    etcdServers: servers ? servers.split(',').filter(Boolean) : [],
    ...(flag('advertise-address') ? { advertiseAddress: flag('advertise-address') } : {}),
    ...(port && /^\d+$/.test(port) ? { securePort: Number(port) } : {}),
  };
}

function diff(label: string, have: readonly string[], want: readonly string[]): string | undefined {
  const missing = want.filter((x) => !have.includes(x));
  const extra = have.filter((x) => !want.includes(x));
  if (!missing.length && !extra.length) return undefined;
  return `${label}: ${[missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `extra ${extra.join(', ')}` : ''].filter(Boolean).join('; ')}`;
}

/**
 * Drift between the members and the control plane, one line per place that differs (members
 * missing from, or extra in, the ConfigMap, each node's kubeadm config file and each running
 * apiserver), as `cm-kubeadm-manage status` shows it. Empty when everything lists the members.
 */
export function kubeDrift(state: KubeState): string[] {
  if (!state.enabled) return [];
  const out: string[] = [];
  const cm = state.configMap;
  if (cm && 'error' in cm) out.push(`kubeadm-config ConfigMap: unreadable (${cm.error})`);
  else if (cm) { const d = diff('kubeadm-config ConfigMap', cm.endpoints, state.desired); if (d) out.push(d); }
  for (const n of state.nodes) {
    if (!n.reachable) { out.push(`${n.node}: not reachable (${n.error ?? 'no answer'})`); continue; }
    if (n.fileEndpoints) { const d = diff(`${n.node} kubeadm config file`, n.fileEndpoints, state.desired); if (d) out.push(d); }
    if (!n.apiserver) out.push(`${n.node} kube-apiserver: not running`);
    else { const d = diff(`${n.node} kube-apiserver --etcd-servers`, n.apiserver.etcdServers, state.desired); if (d) out.push(d); }
    if (n.apiserver && !n.ready) out.push(`${n.node} kube-apiserver: not ready (/readyz)`);
  }
  return out;
}

/** Control-plane nodes whose apiserver is not ready, except those in `except` (a node being replaced). */
export function unreadyApiservers(state: KubeState, except: readonly string[] = []): string[] {
  return state.nodes.filter((n) => !except.includes(n.node) && !n.ready).map((n) => `${n.node}: kube-apiserver ${!n.reachable ? `not reachable (${n.error ?? 'no answer'})` : n.apiserver ? 'not ready (/readyz)' : 'not running'}`);
}

