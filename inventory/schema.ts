import { z } from 'zod';
import { SafePath } from '../domain/inputs';

/** Paths go into commands and into /etc/default/etcd: absolute, normalised, no control or shell characters. */
const absolutePath = SafePath;
/** Names that are safe as node names, member names, file-name parts and CLI arguments. */
const safeName = z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/, 'must be lowercase letters, digits, "-" or "." (DNS label style, 1-63 chars)');
const etcdURL = z.url({ protocol: /^https?$/ }).refine((u) => !/[,=\s]/.test(u), 'must not contain ",", "=" or spaces (it goes into ETCD_INITIAL_CLUSTER)');

/** How the worker reaches a node. The private key stays on the worker host; only its path is here. */
export const NodeSshSchema = z.strictObject({
  host: z.union([z.ipv4(), z.ipv6(), z.hostname()]),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().regex(/^[a-z_][a-z0-9_-]*$/, 'must be a plain user name'),
  /** OpenSSH SHA-256 fingerprint of the node's host key, as printed by `ssh-keygen -l -E sha256`. */
  hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must look like SHA256:<43 base64 chars> (ssh-keygen -l -E sha256 -f KEY.pub)'),
  privateKeyPath: absolutePath,
});

/** The etcd member a node runs (or will run). One peer URL and one client URL per member. */
export const NodeEtcdSchema = z.strictObject({
  memberName: safeName,
  peerURL: etcdURL,
  clientURL: etcdURL,
  dataDir: absolutePath.refine((p) => p.split('/').filter(Boolean).length >= 2, 'must not be a top-level directory'),
});

export const NodeSchema = z.strictObject({
  name: safeName,
  ssh: NodeSshSchema,
  etcd: NodeEtcdSchema,
});

/** Paths of TLS files on the nodes (the same on every node). Paths only: no key material. */
export const TlsSchema = z.strictObject({
  caFile: absolutePath,
  serverCertFile: absolutePath,
  serverKeyFile: absolutePath,
  peerCertFile: absolutePath,
  peerKeyFile: absolutePath,
  clientCertFile: absolutePath,
  clientKeyFile: absolutePath,
});

/**
 * The CA that signed the members' certificates, as files on the worker host (the head node), never
 * on the etcd nodes, in a workflow's input or its history: `rotate-certs` signs renewed certificates
 * with it. The key must be root's alone (mode 0600 or 0640 in a directory only root may write).
 */
export const CertificateAuthoritySchema = z.strictObject({ certFile: absolutePath, keyFile: absolutePath });

/** systemd runtime: Debian's etcd.service reading its settings from an environment file. */
export const SystemdRuntimeSchema = z.strictObject({
  unit: z.string().regex(/^[A-Za-z0-9@._-]+\.service$/).default('etcd.service'),
  environmentFile: absolutePath.default('/etc/default/etcd'),
  etcdUser: z.string().regex(/^[a-z_][a-z0-9_-]*$/).default('etcd'),
  /**
   * Where `upgrade --to X.Y.Z` finds each release on every node: `<releasesDir>/vX.Y.Z/etcd` (with
   * etcdctl and etcdutl beside it), put there by the operator or their configuration management.
   * The upgrade points the unit at it with a drop-in; the package's binary stays untouched.
   */
  releasesDir: absolutePath.optional(),
});

/**
 * kubeadm runtime: etcd as kubeadm's static pod on each control-plane node (stacked etcd). The
 * inventory's `tls` then names the kubeadm PKI (/etc/kubernetes/pki/etcd/ca.crt, server.crt,
 * peer.crt, and a client pair such as /etc/kubernetes/pki/apiserver-etcd-client.crt).
 */
export const KubeadmRuntimeSchema = z.strictObject({
  /** Where kubelet reads static pod manifests; etcd's is `etcd.yaml` there. */
  manifestsDir: absolutePath.default('/etc/kubernetes/manifests'),
  /** Where a stopped or fenced member's manifest waits (outside the manifests dir, so kubelet leaves it). */
  fencedDir: absolutePath.default('/etc/kubernetes/etcd-runbooks-fenced'),
  /** kubeconfig on each control-plane node (kubeadm writes admin.conf), for joins. */
  kubeconfig: absolutePath.default('/etc/kubernetes/admin.conf'),
  /** JoinConfiguration nodeRegistration.criSocket of a joining control-plane node. */
  criSocket: z.string().regex(/^unix:\/\/\/[A-Za-z0-9._/-]+$/).default('unix:///run/containerd/containerd.sock'),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  /** Pass the peer URL's address as kubelet --node-ip on join (nodes without a default route need it). */
  kubeletNodeIP: z.boolean().default(false),
  /** kubeadm join --ignore-preflight-errors (check names, or `all`). */
  ignorePreflightErrors: z.array(z.string().regex(/^[A-Za-z0-9-]+$/)).default([]),
});

/** Settings the runbooks write themselves; memberSettings must not override them. */
export const MANAGED_SETTINGS = /^ETCD_(NAME|DATA_DIR|WAL_DIR|(LISTEN|ADVERTISE|INITIAL_ADVERTISE)_(PEER|CLIENT)_URLS|INITIAL_CLUSTER(_STATE|_TOKEN)?|FORCE_NEW_CLUSTER|(PEER_)?(CERT_FILE|KEY_FILE|TRUSTED_CA_FILE|CLIENT_CERT_AUTH))$/;

/**
 * etcd settings every member of the cluster runs with, as the environment variables etcd reads
 * (e.g. ETCD_QUOTA_BACKEND_BYTES: "8589934592", ETCD_SNAPSHOT_COUNT, ETCD_AUTO_COMPACTION_RETENTION).
 * Written into the environment file of every member a runbook adds or restores, so it runs like
 * the others (a new member with the default 2 GiB quota in a 4 GiB cluster raises NOSPACE and stops
 * every write). Plain values only; the settings the runbooks own are refused.
 * Source: etcd docs "Configuration flags" (every flag has an ETCD_ variable).
 */
export const MemberSettingsSchema = z.record(z.string(), z.string()).superRefine((settings, ctx) => {
  for (const [k, v] of Object.entries(settings)) {
    if (!/^ETCD_[A-Z0-9_]+$/.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'must be an etcd environment variable (ETCD_...)' });
    else if (MANAGED_SETTINGS.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'is written by the runbooks themselves' });
    else if (!/^[A-Za-z0-9._/:=,@+-]+$/.test(v)) ctx.addIssue({ code: 'custom', path: [k], message: 'must be a plain value (letters, digits and . _ - / : = , @ + only)' });
  }
});

/**
 * A Kubernetes control-plane node: the name of an inventory node (BCM's head node is both an etcd
 * and a control-plane node; its SSH entry is used), or a node of its own with its SSH entry.
 */
export const ControlPlaneSchema = z.union([safeName, z.strictObject({ name: safeName, ssh: NodeSshSchema })]);

/**
 * The Kubernetes control plane whose kube-apiservers use this etcd cluster as external etcd
 * (kubeadm `etcd.external.endpoints`). With it, every runbook that changes membership ends by
 * pointing the kubeadm-config ConfigMap, each node's kubeadm config file and each apiserver's
 * --etcd-servers at the members. Source: reference 000 §6 (`cm-kubeadm-manage update_configmap`,
 * `update_apiserver`); kubeadm docs "kubeadm init phase control-plane".
 */
export const KubernetesSchema = z.strictObject({
  controlPlanes: z.array(ControlPlaneSchema).min(1),
  /** kubeconfig on each control-plane node that kubectl uses (kubeadm writes admin.conf on every control plane). */
  kubeconfig: absolutePath.default('/etc/kubernetes/admin.conf'),
  /**
   * The kubeadm config file on each control-plane node (InitConfiguration with that node's
   * localAPIEndpoint, plus the ClusterConfiguration); BCM keeps /root/.kube/kubeadm-init-<cluster>.yaml.
   */
  kubeadmConfig: absolutePath,
  /** Where kubelet reads static pod manifests. */
  manifestsDir: absolutePath.default('/etc/kubernetes/manifests'),
});

/**
 * Where backups are copied off the etcd hosts (reference 002: a backup kept only on a member's node
 * is lost with it): a host of its own, reached over SSH, with its own retention. Each backup run
 * streams its snapshot there and checks the copy's SHA-256 against the source's.
 */
export const BackupHostSchema = z.strictObject({
  name: safeName,
  ssh: NodeSshSchema,
  /** Directory on the backup host for this cluster's copies. */
  dir: absolutePath,
  /** Copies of this cluster kept there (newest first). */
  keep: z.number().int().min(1).max(10_000).default(30),
});

export const InventorySchema = z
  .strictObject({
    cluster: safeName,
    /** How etcd runs on the nodes (activities/runtime): Debian's etcd.service, or kubeadm's static pod. */
    runtime: z.enum(['systemd', 'kubeadm']),
    systemd: SystemdRuntimeSchema.default({ unit: 'etcd.service', environmentFile: '/etc/default/etcd', etcdUser: 'etcd' }),
    kubeadm: KubeadmRuntimeSchema.default(KubeadmRuntimeSchema.parse({})),
    /**
     * The cluster is Kubernetes' datastore (kube-apiserver's --etcd-servers). A restore then bumps
     * the revision and marks it compacted by default (domain/revisionBump.ts).
     */
    backsKubernetes: z.boolean().default(false),
    memberSettings: MemberSettingsSchema.default({}),
    kubernetes: KubernetesSchema.optional(),
    /** Directory on the nodes where snapshots are written. */
    backupDir: absolutePath,
    backupHost: BackupHostSchema.optional(),
    /**
     * The recovery point objective (hours): the watch proposes a backup when the newest backup that
     * passed a restore drill is older (and reports a failed drill). Unset: not judged.
     */
    recoveryPointObjectiveHours: z.number().positive().max(8760).optional(),
    tls: TlsSchema,
    certificateAuthority: CertificateAuthoritySchema.optional(),
    nodes: z.array(NodeSchema).min(1),
  })
  .superRefine((inv, ctx) => {
    const unique = (key: string, pick: (n: z.infer<typeof NodeSchema>) => string) => {
      const seen = new Map<string, number>();
      inv.nodes.forEach((n, i) => {
        const v = pick(n);
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: ['nodes', i, ...key.split('.')], message: `duplicate ${key} ${v} (also nodes[${seen.get(v)}])` });
        else seen.set(v, i);
      });
    };
    if (inv.runtime === 'kubeadm' && Object.keys(inv.memberSettings).length) {
      ctx.addIssue({ code: 'custom', path: ['memberSettings'], message: 'not used with runtime kubeadm: set them as etcd.local.extraArgs in the kubeadm ClusterConfiguration' });
    }
    if (inv.runtime === 'kubeadm' && inv.kubernetes) {
      ctx.addIssue({ code: 'custom', path: ['kubernetes'], message: 'is for external etcd; with runtime kubeadm (stacked etcd) each apiserver uses its own node\'s member' });
    }
    unique('name', (n) => n.name);
    unique('etcd.memberName', (n) => n.etcd.memberName);
    unique('etcd.peerURL', (n) => n.etcd.peerURL);
    unique('etcd.clientURL', (n) => n.etcd.clientURL);
    const names = new Set(inv.nodes.map((n) => n.name));
    if (inv.backupHost && names.has(inv.backupHost.name)) ctx.addIssue({ code: 'custom', path: ['backupHost', 'name'], message: `${inv.backupHost.name} is an etcd node; backups must be copied off the etcd hosts (a host of its own)` });
    const seen = new Set<string>();
    inv.kubernetes?.controlPlanes.forEach((cp, i) => {
      const name = typeof cp === 'string' ? cp : cp.name;
      const path = ['kubernetes', 'controlPlanes', i];
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path, message: `duplicate control-plane node ${name}` });
      seen.add(name);
      if (typeof cp === 'string' && !names.has(name)) ctx.addIssue({ code: 'custom', path, message: `${name} is not an inventory node; give it as { name, ssh }` });
      if (typeof cp !== 'string' && names.has(name)) ctx.addIssue({ code: 'custom', path, message: `${name} is an inventory node: name it alone (its SSH entry is used)` });
    });
  });

/** A validated inventory: one etcd cluster, its nodes, and where things are on them. */
export type Inventory = z.infer<typeof InventorySchema>;
export type InventoryNode = z.infer<typeof NodeSchema>;
export type NodeSsh = z.infer<typeof NodeSshSchema>;
export type TlsPaths = z.infer<typeof TlsSchema>;
export type KubernetesSettings = z.infer<typeof KubernetesSchema>;

/** Raised for an inventory that does not validate; the message names every bad field. */
export class InventoryError extends Error {
  constructor(source: string, public readonly problems: string[]) {
    super(`invalid inventory ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'InventoryError';
  }
}

/** Formats zod issues as `field.path: message` lines. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
}

/** Validates a parsed inventory document. Throws InventoryError naming each bad field. */
export function parseInventory(doc: unknown, source = '(inline)'): Inventory {
  const r = InventorySchema.safeParse(doc);
  if (!r.success) throw new InventoryError(source, formatIssues(r.error));
  return r.data;
}

/** A node name that the inventory does not describe. Permanent: retrying cannot help. */
export class UnknownNodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownNodeError';
  }
}

/** The node of that name, or UnknownNodeError listing the known node names. */
export function nodeByName(inv: Inventory, name: string): InventoryNode {
  const n = inv.nodes.find((x) => x.name === name);
  if (!n) throw new UnknownNodeError(`unknown node ${JSON.stringify(name)} in cluster ${inv.cluster} (known: ${inv.nodes.map((x) => x.name).join(', ')})`);
  return n;
}

/** Names of the control-plane nodes, in inventory order; empty without a `kubernetes` section. */
export function controlPlaneNames(inv: Inventory): string[] {
  return (inv.kubernetes?.controlPlanes ?? []).map((cp) => (typeof cp === 'string' ? cp : cp.name));
}

/**
 * How to reach a host by name: an inventory node, a control-plane node given with its own SSH
 * entry, or the backup host. Throws UnknownNodeError listing the known names.
 */
export function sshTarget(inv: Inventory, name: string): { name: string; ssh: NodeSsh } {
  const n = inv.nodes.find((x) => x.name === name);
  if (n) return n;
  const cp = inv.kubernetes?.controlPlanes.find((x) => typeof x !== 'string' && x.name === name);
  if (cp && typeof cp !== 'string') return cp;
  if (inv.backupHost?.name === name) return inv.backupHost;
  return nodeByName(inv, name);
}
