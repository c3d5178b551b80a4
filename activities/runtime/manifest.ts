import { isMap, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from 'yaml';

/** A static pod manifest that is not kubeadm's etcd pod (no container named etcd with a command list). */
export class EtcdManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EtcdManifestError';
  }
}

function etcdCommand(text: string, source: string) {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new EtcdManifestError(`${source}: not YAML: ${doc.errors[0].message}`);
  const containers = doc.getIn(['spec', 'containers'], true);
  if (!isSeq(containers)) throw new EtcdManifestError(`${source}: no spec.containers`);
  const etcd = (containers as YAMLSeq).items.find((c) => isMap(c) && (c as YAMLMap).get('name') === 'etcd') as YAMLMap | undefined;
  const cmd = etcd?.get('command', true);
  if (!etcd || !isSeq(cmd)) throw new EtcdManifestError(`${source}: no container "etcd" with a command list`);
  return { doc, etcd, cmd: cmd as YAMLSeq };
}

/** The etcd container's command of kubeadm's etcd static pod manifest (`etcd`, `--name=...`, ...). Throws EtcdManifestError. */
export function manifestCommand(text: string, source = 'etcd.yaml'): string[] {
  return etcdCommand(text, source).cmd.items.map((i) => String((i as { value?: unknown }).value ?? i));
}

/** The value of `--flag=value` (or '' for a bare `--flag`) in a command, or undefined. */
export function flagValue(command: readonly string[], flag: string): string | undefined {
  for (const a of command) {
    if (a === `--${flag}`) return '';
    if (a.startsWith(`--${flag}=`)) return a.slice(flag.length + 3);
  }
  return undefined;
}

/**
 * Sets flags of the etcd container's command, keeping the rest of the manifest as it is: a value
 * replaces `--flag=...` where it stands (or is appended), '' makes a bare `--flag`, null removes
 * the flag. Returns the new text and whether anything changed. Throws EtcdManifestError.
 * Source: reference 001 (edit the manifest's flags: --initial-cluster, --initial-cluster-state,
 * --force-new-cluster); kubeadm's etcd manifest (one `--flag=value` item per flag).
 */
export function setManifestFlags(text: string, flags: Record<string, string | null>, source = 'etcd.yaml'): { text: string; changed: boolean } {
  const { doc, etcd, cmd } = etcdCommand(text, source);
  const before = cmd.items.map((i) => String((i as { value?: unknown }).value ?? i));
  let args = [...before];
  for (const [flag, value] of Object.entries(flags)) {
    const is = (a: string) => a === `--${flag}` || a.startsWith(`--${flag}=`);
    const item = value === null ? undefined : value === '' ? `--${flag}` : `--${flag}=${value}`;
    const at = args.findIndex(is);
    args = args.filter((a, i) => !is(a) || i === at);
    if (at < 0) { if (item) args.push(item); } else if (item) args[at] = item;
    else args.splice(at, 1);
  }
  if (args.length === before.length && args.every((a, i) => a === before[i])) return { text, changed: false };
  etcd.set('command', doc.createNode(args));
  return { text: doc.toString({ lineWidth: 0 }), changed: true };
}

/** The host path mounted as the etcd data dir (volume `etcd-data` in kubeadm's manifest), or undefined. */
export function manifestDataDirVolume(text: string): string | undefined {
  const doc = parseDocument(text);
  const vols = doc.getIn(['spec', 'volumes'], true);
  if (!isSeq(vols)) return undefined;
  for (const v of (vols as YAMLSeq).items) {
    if (isMap(v) && (v as YAMLMap).get('name') === 'etcd-data') return String((v as YAMLMap).getIn(['hostPath', 'path']) ?? '') || undefined;
  }
  return undefined;
}

/**
 * Sets `metadata.annotations[key]` of a static pod manifest. Used to give every manifest the
 * runbooks write a new content: kubelet derives a static pod's UID from a hash of its manifest, and
 * will not start a pod again under the UID of one it has just terminated (the mirror pod of that
 * UID must be deleted first, through an apiserver that may be down while etcd is).
 */
export function setManifestAnnotation(text: string, key: string, value: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length) throw new EtcdManifestError(`not YAML: ${doc.errors[0].message}`);
  doc.setIn(['metadata', 'annotations', key], value);
  return doc.toString({ lineWidth: 0 });
}

/** The image of the etcd container (`registry.k8s.io/etcd:3.5.35-0`). Throws EtcdManifestError. */
export function manifestImage(text: string, source = 'etcd.yaml'): string {
  const image = etcdCommand(text, source).etcd.get('image');
  if (typeof image !== 'string' || !image) throw new EtcdManifestError(`${source}: the etcd container names no image`);
  return image;
}

/**
 * Sets the etcd container's image, keeping the rest of the manifest. Returns the new text and
 * whether it changed. Throws EtcdManifestError. Source: kubeadm docs "Upgrading kubeadm clusters"
 * (kubeadm upgrade apply rewrites the etcd static pod manifest with the new image tag).
 */
export function setManifestImage(text: string, image: string, source = 'etcd.yaml'): { text: string; changed: boolean } {
  const { doc, etcd } = etcdCommand(text, source);
  if (etcd.get('image') === image) return { text, changed: false };
  etcd.set('image', image);
  return { text: doc.toString({ lineWidth: 0 }), changed: true };
}

/**
 * The image tags of etcd `version` among `refs` (images on a node) of the same repository as
 * `image`, best first: kubeadm tags etcd `<X.Y.Z>-<n>` (the highest n is the newest build), a bare
 * `<X.Y.Z>` or `v<X.Y.Z>` is accepted too. Pure. Source: kubeadm constants (etcd image tags, e.g. 3.6.4-0).
 */
export function etcdImagesOf(image: string, version: string, refs: readonly string[]): string[] {
  const repo = image.replace(/@.*$/, '').replace(/:[^:/]+$/, '');
  const esc = version.replace(/\./g, '\\.');
  const tag = new RegExp(`^v?${esc}(?:-(\\d+))?$`);
  return refs
    .filter((r) => r.startsWith(`${repo}:`) && tag.test(r.slice(repo.length + 1)))
    .map((r) => ({ r, n: Number(tag.exec(r.slice(repo.length + 1))![1] ?? -1) }))
    .sort((a, b) => b.n - a.n)
    .map((x) => x.r);
}
