import { isScalar, isSeq, parseAllDocuments, type Document } from 'yaml';

/** A kubeadm config that cannot be pointed at other etcd endpoints (not external etcd, unreadable). */
export class KubeadmConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeadmConfigError';
  }
}

/** The result of setting the external etcd endpoints: the new text, and the endpoints it had. */
export interface EndpointEdit { text: string; before: string[]; changed: boolean }

function clusterConfiguration(docs: Document[], source: string): Document {
  const doc = docs.find((d) => d.get('kind') === 'ClusterConfiguration');
  if (!doc) throw new KubeadmConfigError(`${source}: no ClusterConfiguration document`);
  return doc;
}

function externalEndpoints(doc: Document, source: string): string[] {
  if (doc.hasIn(['etcd', 'local'])) throw new KubeadmConfigError(`${source}: etcd is local (stacked, a static pod per control plane), not external: its endpoints are not kept in the kubeadm config`);
  const eps = doc.getIn(['etcd', 'external', 'endpoints'], true);
  if (!isSeq(eps)) throw new KubeadmConfigError(`${source}: no etcd.external.endpoints list`);
  return eps.items.map((i) => String((i as { value?: unknown }).value ?? i));
}

/**
 * The etcd endpoints of a kubeadm ClusterConfiguration (`etcd.external.endpoints`), from a kubeadm
 * config file (several YAML documents) or the kubeadm-config ConfigMap's `ClusterConfiguration`
 * (one document). Throws KubeadmConfigError for stacked etcd or a config without the list.
 * Source: kubeadm config API v1beta4 (ClusterConfiguration.etcd.external).
 */
export function readExternalEndpoints(text: string, source: string): string[] {
  const docs = parseAllDocuments(text) as Document[];
  const bad = docs.find((d) => d.errors.length);
  if (bad) throw new KubeadmConfigError(`${source}: not valid YAML: ${bad.errors[0].message}`);
  return externalEndpoints(clusterConfiguration(docs, source), source);
}

/**
 * Sets `etcd.external.endpoints` of the ClusterConfiguration in `text` to `endpoints`, keeping every
 * other field, the other documents, comments and order. `changed` is false (and `text` as given)
 * when the list already holds exactly these endpoints in this order.
 */
export function setExternalEndpoints(text: string, endpoints: readonly string[], source: string): EndpointEdit {
  const docs = parseAllDocuments(text) as Document[];
  const bad = docs.find((d) => d.errors.length);
  if (bad) throw new KubeadmConfigError(`${source}: not valid YAML: ${bad.errors[0].message}`);
  const doc = clusterConfiguration(docs, source);
  const before = externalEndpoints(doc, source);
  if (before.length === endpoints.length && before.every((e, i) => e === endpoints[i])) return { text, before, changed: false };
  const seq = doc.createNode([...endpoints]);
  seq.flow = (doc.getIn(['etcd', 'external', 'endpoints'], true) as { flow?: boolean }).flow ?? false;
  doc.setIn(['etcd', 'external', 'endpoints'], seq);
  return { text: serialize(docs), before, changed: true };
}

/**
 * The documents as one stream: every document after the first starts with its own `---` (a
 * document read after a marker prints it already; joining with another would add an empty
 * document, which kubeadm refuses). Empty documents are dropped for the same reason.
 */
function serialize(docs: Document[]): string {
  const kept = docs.filter((d) => d.contents !== null && !(isScalar(d.contents) && d.contents.value === null));
  kept.forEach((d, i) => { if (i > 0) d.directives!.docStart = true; });
  return kept.map((d) => d.toString()).join('');
}

/** The result of setting the local etcd image tag: the new text, the tag it had (undefined: kubeadm's default). */
export interface ImageTagEdit { text: string; before?: string; changed: boolean }

/**
 * Sets `etcd.local.imageTag` of the ClusterConfiguration in `text` (a kubeadm config file or the
 * kubeadm-config ConfigMap's ClusterConfiguration) to `tag`, keeping the rest. kubeadm makes the
 * etcd static pod of every control-plane node it joins from this field (unset: the etcd of its
 * own release), so it must name what the members run after an upgrade. Throws KubeadmConfigError
 * for external etcd. Source: kubeadm config API v1beta4 (ClusterConfiguration.etcd.local.imageTag).
 */
export function setLocalEtcdImageTag(text: string, tag: string, source: string): ImageTagEdit {
  const docs = parseAllDocuments(text) as Document[];
  const bad = docs.find((d) => d.errors.length);
  if (bad) throw new KubeadmConfigError(`${source}: not valid YAML: ${bad.errors[0].message}`);
  const doc = clusterConfiguration(docs, source);
  if (doc.hasIn(['etcd', 'external'])) throw new KubeadmConfigError(`${source}: etcd is external: kubeadm runs no etcd image`);
  const before = doc.getIn(['etcd', 'local', 'imageTag']);
  if (before === tag) return { text, before, changed: false };
  doc.setIn(['etcd', 'local', 'imageTag'], tag);
  return { text: serialize(docs), ...(typeof before === 'string' ? { before } : {}), changed: true };
}
