/** TLS file paths on a node (same shape as the inventory's `tls`). */
export interface MemberTlsPaths {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  peerCertFile: string;
  peerKeyFile: string;
}

export interface MemberConfigInput {
  name: string;
  peerURL: string;
  clientURL: string;
  dataDir: string;
  /** name=peerURL,... of every member including this one. */
  initialCluster: string;
  /** `existing` when joining a running cluster; `new` only when bootstrapping. */
  initialClusterState: 'new' | 'existing';
  tls: MemberTlsPaths;
  /** ETCD_INITIAL_CLUSTER_TOKEN, for a member that bootstraps a new cluster (restore). */
  token?: string;
  /** The cluster's own settings (inventory `memberSettings`, ETCD_* = plain value), written after ours. */
  settings?: Record<string, string>;
}

/** etcd's default backend quota (2 GiB; etcd docs "Maintenance: space quota"). */
export const DEFAULT_QUOTA_BYTES = 2 * 2 ** 30;

/** The backend quota a member written with `settings` runs with (ETCD_QUOTA_BACKEND_BYTES, else the default). */
export function memberQuotaBytes(settings: Record<string, string> | undefined): number {
  const v = Number(settings?.ETCD_QUOTA_BACKEND_BYTES);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_QUOTA_BYTES;
}

/**
 * A value the environment file may hold: systemd reads `KEY=value` lines, so a newline would add
 * a setting (e.g. ETCD_FORCE_NEW_CLUSTER) and quotes or `$` would change the value.
 */
const PLAIN_VALUE = /^[A-Za-z0-9._/:=,@+-]+$/;

/**
 * The environment file Debian's etcd.service reads (`EnvironmentFile=-/etc/default/etcd`) for a
 * member. Joining members get ETCD_INITIAL_CLUSTER_STATE=existing. Client and peer traffic use TLS
 * with client-certificate auth. The member also listens on loopback for local etcdctl.
 * Source: etcd docs "Configuration flags" and "Runtime reconfiguration: add a new member";
 * reference 004 (ETCD_INITIAL_CLUSTER / ETCD_INITIAL_CLUSTER_STATE=existing drop-in).
 */
export function renderMemberEnvironment(c: MemberConfigInput): string {
  const values: Record<string, string> = { name: c.name, peerURL: c.peerURL, clientURL: c.clientURL, dataDir: c.dataDir, initialCluster: c.initialCluster, ...c.tls };
  if (c.token !== undefined) values.token = c.token;
  for (const [k, v] of Object.entries(values)) {
    if (!PLAIN_VALUE.test(v)) throw new Error(`member config ${k} is not a plain value (letters, digits and . _ - / : = , @ + only): ${JSON.stringify(v.slice(0, 80))}`);
  }
  const client = new URL(c.clientURL);
  const loopback = `${client.protocol}//127.0.0.1:${client.port || '2379'}`;
  const listenClient = client.hostname === '127.0.0.1' ? c.clientURL : `${c.clientURL},${loopback}`;
  const lines: Array<[string, string]> = [
    ['ETCD_NAME', c.name],
    ['ETCD_DATA_DIR', c.dataDir],
    ['ETCD_LISTEN_PEER_URLS', c.peerURL],
    ['ETCD_LISTEN_CLIENT_URLS', listenClient],
    ['ETCD_ADVERTISE_CLIENT_URLS', c.clientURL],
    ['ETCD_INITIAL_ADVERTISE_PEER_URLS', c.peerURL],
    ['ETCD_INITIAL_CLUSTER', c.initialCluster],
    ['ETCD_INITIAL_CLUSTER_STATE', c.initialClusterState],
    ['ETCD_CERT_FILE', c.tls.serverCertFile],
    ['ETCD_KEY_FILE', c.tls.serverKeyFile],
    ['ETCD_TRUSTED_CA_FILE', c.tls.caFile],
    ['ETCD_CLIENT_CERT_AUTH', 'true'],
    ['ETCD_PEER_CERT_FILE', c.tls.peerCertFile],
    ['ETCD_PEER_KEY_FILE', c.tls.peerKeyFile],
    ['ETCD_PEER_TRUSTED_CA_FILE', c.tls.caFile],
    ['ETCD_PEER_CLIENT_CERT_AUTH', 'true'],
    ...(c.token !== undefined ? [['ETCD_INITIAL_CLUSTER_TOKEN', c.token] as [string, string]] : []),
  ];
  const ours = new Set(lines.map(([k]) => k));
  for (const [k, v] of Object.entries(c.settings ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^ETCD_[A-Z0-9_]+$/.test(k) || ours.has(k) || k === 'ETCD_FORCE_NEW_CLUSTER') throw new Error(`member setting ${k} is not allowed (not ETCD_*, or written by the runbooks)`);
    if (!PLAIN_VALUE.test(v)) throw new Error(`member setting ${k} is not a plain value: ${JSON.stringify(v.slice(0, 80))}`);
    lines.push([k, v]);
  }
  return `# Written by etcd-runbooks for member ${c.name}.\n${lines.map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}
