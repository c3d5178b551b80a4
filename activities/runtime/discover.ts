import { parse as parseYaml } from 'yaml';
import { MANAGED_SETTINGS } from '../../inventory/schema';
import { flagValue, manifestCommand } from './manifest';

/**
 * Runs one command on a node: argv quoted for the remote shell, any exit code. The seam under the
 * readers below (a real SSH session, or a scripted fake built from captured output in unit tests).
 */
export type NodeShell = (argv: readonly string[]) => Promise<{ exitCode: number; stdout: string; stderr: string }>;

/** TLS files a member serves with (paths on its node). Source: etcd docs "Transport security model". */
export interface MemberTlsFiles { caFile: string; serverCertFile: string; serverKeyFile: string; peerCertFile: string; peerKeyFile: string }

/**
 * How a member is configured on its node, as read there: the runtime it runs under, its name,
 * data dir, advertised URLs and TLS files, and the runtime's own settings. Read-only.
 */
export interface MemberConfig {
  runtime: 'systemd' | 'kubeadm';
  /** Where it was read (`etcd.service + /etc/default/etcd`, `/etc/kubernetes/manifests/etcd.yaml`). */
  source: string;
  memberName: string;
  dataDir: string;
  clientURLs: string[];
  peerURLs: string[];
  tls: MemberTlsFiles;
  /** systemd: the unit, its environment file and user. */
  systemd?: { unit: string; environmentFile: string; etcdUser: string };
  /** kubeadm: the manifests dir, the pod's image pull policy, and kubelet's --node-ip and CRI socket (kubeadm-flags.env). */
  kubeadm?: { manifestsDir: string; imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never'; kubeletNodeIP: boolean; criSocket?: string };
  /** systemd: the other ETCD_ settings of its environment file (those the runbooks do not write). */
  settings: Record<string, string>;
}

/** The node runs no etcd this reader knows: neither the unit nor the manifest is there. */
export class NoMemberConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoMemberConfigError';
  }
}

/** `KEY=VALUE` lines of a systemd environment file (quotes removed; comments and blank lines skipped). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]] = m[2].trim().replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
  }
  return out;
}

/** `systemctl show -p A -p B` output as a map. */
function parseShow(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** A member's settings from its environment file's ETCD_ variables. Throws naming a missing one. */
export function memberFromEnvironment(env: Record<string, string>, source: string): Omit<MemberConfig, 'runtime' | 'source' | 'systemd'> {
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new NoMemberConfigError(`${source}: no ${k}`);
    return v;
  };
  const settings = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('ETCD_') && !MANAGED_SETTINGS.test(k)));
  return {
    memberName: env.ETCD_NAME ?? 'default',
    dataDir: need('ETCD_DATA_DIR'),
    clientURLs: list(need('ETCD_ADVERTISE_CLIENT_URLS')),
    peerURLs: list(env.ETCD_INITIAL_ADVERTISE_PEER_URLS),
    tls: {
      caFile: need('ETCD_TRUSTED_CA_FILE'), serverCertFile: need('ETCD_CERT_FILE'), serverKeyFile: need('ETCD_KEY_FILE'),
      peerCertFile: need('ETCD_PEER_CERT_FILE'), peerKeyFile: need('ETCD_PEER_KEY_FILE'),
    },
    settings,
  };
}

/** A member's settings from kubeadm's etcd static pod manifest (its container's flags). Throws naming a missing flag. */
export function memberFromManifest(text: string, source: string): Omit<MemberConfig, 'runtime' | 'source' | 'systemd' | 'kubeadm' | 'settings'> & { imagePullPolicy?: string } {
  const cmd = manifestCommand(text, source);
  const need = (f: string) => {
    const v = flagValue(cmd, f);
    if (!v) throw new NoMemberConfigError(`${source}: no --${f}`);
    return v;
  };
  const pod = parseYaml(text) as { spec?: { containers?: Array<{ name?: string; imagePullPolicy?: string }> } };
  return {
    memberName: flagValue(cmd, 'name') ?? 'default',
    dataDir: need('data-dir'),
    clientURLs: list(need('advertise-client-urls')),
    peerURLs: list(flagValue(cmd, 'initial-advertise-peer-urls')),
    tls: { caFile: need('trusted-ca-file'), serverCertFile: need('cert-file'), serverKeyFile: need('key-file'), peerCertFile: need('peer-cert-file'), peerKeyFile: need('peer-key-file') },
    imagePullPolicy: pod.spec?.containers?.find((c) => c.name === 'etcd')?.imagePullPolicy,
  };
}

async function read(shell: NodeShell, path: string): Promise<string | undefined> {
  const r = await shell(['cat', '--', path]);
  return r.exitCode === 0 ? r.stdout : undefined;
}

/**
 * Reads how etcd runs on a node: kubeadm's static pod (`<manifestsDir>/etcd.yaml`) when it is
 * there, else the systemd unit `unit` and its environment file. Throws NoMemberConfigError when
 * neither is there or a needed setting is missing, naming it.
 * Sources: reference 001 §2 (the etcd static pod manifest); Debian's etcd.service (/etc/default/etcd).
 */
export async function readMemberConfig(shell: NodeShell, opts: { unit?: string; manifestsDir?: string } = {}): Promise<MemberConfig> {
  const manifestsDir = opts.manifestsDir ?? '/etc/kubernetes/manifests';
  const manifestPath = `${manifestsDir}/etcd.yaml`;
  const manifest = await read(shell, manifestPath);
  if (manifest !== undefined) {
    const m = memberFromManifest(manifest, manifestPath);
    const flags = (await read(shell, '/var/lib/kubelet/kubeadm-flags.env')) ?? '';
    const policy = m.imagePullPolicy === 'Always' || m.imagePullPolicy === 'IfNotPresent' || m.imagePullPolicy === 'Never' ? m.imagePullPolicy : undefined;
    return {
      runtime: 'kubeadm', source: manifestPath, memberName: m.memberName, dataDir: m.dataDir, clientURLs: m.clientURLs, peerURLs: m.peerURLs, tls: m.tls,
      kubeadm: { manifestsDir, imagePullPolicy: policy, kubeletNodeIP: /--node-ip[= ]/.test(flags), criSocket: /--container-runtime-endpoint[= ](unix:\/\/\/[^\s"]+)/.exec(flags)?.[1] },
      settings: {},
    };
  }
  const unit = opts.unit ?? 'etcd.service';
  const show = parseShow((await shell(['systemctl', 'show', unit, '-p', 'LoadState', '-p', 'User', '-p', 'EnvironmentFiles'])).stdout);
  if (show.LoadState !== 'loaded') throw new NoMemberConfigError(`neither ${manifestPath} nor the unit ${unit} is there (LoadState ${show.LoadState || 'unknown'})`);
  const environmentFile = (show.EnvironmentFiles ?? '').split(/\s+/)[0];
  if (!environmentFile) throw new NoMemberConfigError(`${unit} reads no EnvironmentFile: etcd-runbooks writes members' settings into one (Debian's /etc/default/etcd)`);
  const text = await read(shell, environmentFile);
  if (text === undefined) throw new NoMemberConfigError(`${unit}'s environment file ${environmentFile} cannot be read`);
  const source = `${unit} + ${environmentFile}`;
  return { runtime: 'systemd', source, ...memberFromEnvironment(parseEnvironmentFile(text), source), systemd: { unit, environmentFile, etcdUser: show.User || 'root' } };
}

/**
 * The client certificate and key a runbook can use against the member (paths on the node): the
 * apiserver's etcd client pair when a kube-apiserver manifest names one (kubeadm's
 * apiserver-etcd-client), else `client.crt`/`client.key`, then kubeadm's `healthcheck-client`,
 * beside the CA. Undefined when none is there.
 */
export async function findClientCertificate(shell: NodeShell, caFile: string, manifestsDir = '/etc/kubernetes/manifests'): Promise<{ certFile: string; keyFile: string } | undefined> {
  const apiserver = await read(shell, `${manifestsDir}/kube-apiserver.yaml`);
  if (apiserver !== undefined) {
    const pod = parseYaml(apiserver) as { spec?: { containers?: Array<{ name?: string; command?: string[] }> } };
    const cmd = pod.spec?.containers?.find((c) => c.name === 'kube-apiserver')?.command ?? [];
    const certFile = flagValue(cmd, 'etcd-certfile');
    const keyFile = flagValue(cmd, 'etcd-keyfile');
    if (certFile && keyFile) return { certFile, keyFile };
  }
  const dir = caFile.slice(0, caFile.lastIndexOf('/'));
  for (const base of ['client', 'healthcheck-client']) {
    const pair = { certFile: `${dir}/${base}.crt`, keyFile: `${dir}/${base}.key` };
    if ((await shell(['test', '-f', pair.certFile, '-a', '-f', pair.keyFile])).exitCode === 0) return pair;
  }
  return undefined;
}
