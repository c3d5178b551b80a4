/**
 * etcd versions and the tools each one has. Pure functions over the text etcd's binaries print
 * (captured for 3.4, 3.5 and 3.6 in test/fixtures/etcd-output/).
 */

/** etcd's version.MinClusterVersion: what a cluster reports before every member has reported its own. */
export const MIN_CLUSTER_VERSION = '3.0.0';

/** A release version, e.g. 3.6.16 -> { major: 3, minor: 6, patch: 16 }. */
export interface EtcdVersion { major: number; minor: number; patch: number }

/** `3.6.16`, `v3.5.35`, `3.5.0` -> EtcdVersion; undefined for anything else. */
export function parseVersion(text: string | undefined): EtcdVersion | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec((text ?? '').trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Negative, zero or positive as a is older than, the same release as, or newer than b. */
export function compareVersions(a: EtcdVersion, b: EtcdVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/** `3.6` of 3.6.16: the part that decides compatibility (the cluster version is always X.Y.0). */
export function minorOf(v: EtcdVersion): string {
  return `${v.major}.${v.minor}`;
}

/**
 * The version a binary prints about itself: `etcd --version` ("etcd Version: 3.4.23"),
 * `etcdctl version` ("etcdctl version: 3.6.16"), `etcdutl version` ("etcdutl version: 3.5.35").
 * Undefined when the line is missing (binary absent, or an unexpected output).
 */
export function parseToolVersion(tool: 'etcd' | 'etcdctl' | 'etcdutl', text: string): string | undefined {
  const m = new RegExp(`^${tool} version:\\s*(\\S+)`, 'im').exec(text);
  return m && parseVersion(m[1]) ? m[1] : undefined;
}

/**
 * etcd's `/version` HTTP answer: `{"etcdserver":"3.6.16","etcdcluster":"3.5.0","storage":"3.5.0"}`
 * (storage from 3.6 on). `etcdcluster` is "not_decided" while a new cluster starts, and 3.0.0
 * (etcd's MinClusterVersion placeholder) when a cluster started while a member never reported its
 * version; both are left out (undecided), not taken as the cluster's version.
 */
export function parseHttpVersion(text: string): { server: string; cluster?: string; storage?: string } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text.trim());
  } catch {
    return undefined;
  }
  const d = doc as { etcdserver?: unknown; etcdcluster?: unknown; storage?: unknown };
  if (typeof d?.etcdserver !== 'string') return undefined;
  return {
    server: d.etcdserver,
    ...(typeof d.etcdcluster === 'string' && parseVersion(d.etcdcluster) && d.etcdcluster !== MIN_CLUSTER_VERSION ? { cluster: d.etcdcluster } : {}),
    ...(typeof d.storage === 'string' && parseVersion(d.storage) ? { storage: d.storage } : {}),
  };
}

/** The etcd binaries found on a node (versions as printed), and what its snapshot tool can do. */
export interface NodeEtcdTools {
  /** The etcd the member's service runs (for systemd: the unit's ExecStart binary). */
  server?: string;
  etcdctl?: string;
  etcdutl?: string;
  /** The chosen restore tool's `snapshot restore --help` lists --bump-revision and --mark-compacted. */
  restoreCanBump: boolean;
}

/** Which binary runs `snapshot status|restore` (and offline defrag) on a node. */
export type SnapshotTool = 'etcdutl' | 'etcdctl';

/**
 * etcdutl where the node has it (3.5 added it and deprecated `etcdctl snapshot status|restore`;
 * 3.6 removed them from etcdctl); etcdctl only when it is older than 3.6 and there is no etcdutl
 * (etcd 3.4). Throws, naming the node, when neither can do it. Source: etcd 3.5 and 3.6 CHANGELOGs;
 * etcd docs "Disaster recovery" (v3.5: `etcdutl snapshot restore`).
 */
export function snapshotTool(node: string, t: NodeEtcdTools): SnapshotTool {
  if (t.etcdutl) return 'etcdutl';
  const ctl = parseVersion(t.etcdctl);
  if (ctl && compareVersions(ctl, { major: 3, minor: 6, patch: 0 }) < 0) return 'etcdctl';
  if (ctl) throw new Error(`${node}: etcdctl ${t.etcdctl} has no snapshot status/restore (removed in 3.6) and etcdutl is not installed; install etcdutl ${t.etcdctl} there`);
  throw new Error(`${node}: neither etcdutl nor etcdctl is installed`);
}

/** `--bump-revision` and `--mark-compacted` both listed in a `snapshot restore --help` text. */
export function helpListsBump(help: string): boolean {
  return /--bump-revision\b/.test(help) && /--mark-compacted\b/.test(help);
}

/**
 * Whether a member running `node` (a binary version) may join a cluster at `cluster` (the cluster
 * version, X.Y.0): etcd refuses a member older than the cluster version ("cluster cannot be
 * downgraded") and supports one minor version of skew during an upgrade, so a member more than one
 * minor newer is refused too (3.6 joins 3.5 clusters, not 3.4 ones). Returns the reason, or
 * undefined when it may join or a version is unknown. Source: etcd docs "Upgrade etcd from 3.5 to
 * 3.6" (one minor at a time; mixed-version clusters run at the lowest member's version).
 */
export function joinVersionProblem(node: string, nodeVersion: string | undefined, clusterVersion: string | undefined): string | undefined {
  const n = parseVersion(nodeVersion);
  const c = parseVersion(clusterVersion);
  if (!n || !c) return undefined;
  if (n.major !== c.major || n.minor < c.minor) {
    return `${node}: its etcd ${nodeVersion} is older than the cluster version ${minorOf(c)}; etcd refuses a member older than the cluster version (install etcd ${minorOf(c)} or newer there)`;
  }
  if (n.minor > c.minor + 1) {
    return `${node}: its etcd ${nodeVersion} is more than one minor version newer than the cluster version ${minorOf(c)}; etcd upgrades one minor version at a time`;
  }
  return undefined;
}

/**
 * The lowest server version among `versions` as X.Y.0: what etcd settles the cluster version on
 * once every member has reported (used when `/version` cannot be read). Undefined if none parse.
 */
export function lowestMinor(versions: readonly string[]): string | undefined {
  const parsed = versions.map(parseVersion).filter((v): v is EtcdVersion => !!v).sort(compareVersions);
  return parsed.length ? `${parsed[0].major}.${parsed[0].minor}.0` : undefined;
}

/**
 * The cluster version and where it came from: etcd's `/version`, or estimated from the members'
 * server versions; `unanswered` says why no `/version` answered (at most 3 reasons, for the plan).
 */
export interface ClusterVersion { version: string; source: 'etcd' | 'estimated'; unanswered?: string[] }

/**
 * The plan's version line: `versions: cluster 3.5.0 (reported by etcd); node3 has etcd 3.6.16`;
 * an estimate says why `/version` did not answer. Member versions are on each member's liveness line.
 */
export function describeVersions(cluster: ClusterVersion | undefined, joining: readonly { spec: { node: string }; etcdVersion?: string }[]): string {
  const why = cluster?.unanswered?.length ? `: /version ${cluster.unanswered.join(', ')}` : '';
  const c = cluster ? `cluster ${cluster.version} (${cluster.source === 'etcd' ? 'reported by etcd' : `estimated from member versions${why}`})` : 'cluster version unknown';
  const j = joining.map((r) => `${r.spec.node} has etcd ${r.etcdVersion ?? 'unknown'}`);
  return `versions: ${[c, ...j].join('; ')}`;
}
