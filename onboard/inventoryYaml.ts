import { Document, isMap, isSeq, type YAMLMap, type YAMLSeq } from 'yaml';
import { parseInventory, type Inventory } from '../inventory/schema';
import type { Discovery, FoundNode } from './discover';

const sshEntry = (pin: FoundNode['ssh'], keyPath: string) => ({ host: pin.host, port: pin.port, user: pin.user, hostKeyFingerprint: pin.fingerprint, privateKeyPath: keyPath });

/**
 * The inventory document a discovery describes, in the schema's field order. Only what was read
 * goes in (defaults are left to the schema, except where the cluster differs from them).
 */
export function inventoryOf(d: Discovery): Record<string, unknown> {
  const first = d.nodes[0].config;
  const tls = { ...first.tls, clientCertFile: d.clientCert.certFile, clientKeyFile: d.clientCert.keyFile };
  const doc: Record<string, unknown> = { cluster: d.cluster, runtime: first.runtime };
  if (first.systemd) doc.systemd = first.systemd;
  if (first.kubeadm) {
    const k = first.kubeadm;
    doc.kubeadm = {
      manifestsDir: k.manifestsDir, ...(k.imagePullPolicy ? { imagePullPolicy: k.imagePullPolicy } : {}), kubeletNodeIP: k.kubeletNodeIP,
      ...(k.criSocket ? { criSocket: k.criSocket } : {}),
    };
  }
  doc.backsKubernetes = first.runtime === 'kubeadm' || d.kubernetes !== undefined;
  if (Object.keys(d.sharedSettings).length) doc.memberSettings = d.sharedSettings;
  if (d.kubernetes) {
    doc.kubernetes = {
      controlPlanes: d.kubernetes.controlPlanes.map((cp) => (cp.ssh ? { name: cp.name, ssh: sshEntry(cp.ssh, d.keyPath) } : cp.name)),
      kubeadmConfig: d.kubernetes.kubeadmConfig,
    };
  }
  doc.backupDir = d.backupDir;
  doc.tls = tls;
  doc.nodes = d.nodes.map((n) => ({
    name: n.name,
    ssh: sshEntry(n.ssh, d.keyPath),
    etcd: { memberName: n.member.name, peerURL: n.member.peerURLs[0], clientURL: n.member.clientURLs[0], dataDir: n.config.dataDir },
  }));
  return doc;
}

function setComment(node: unknown, comment: string): void {
  if (node && typeof node === 'object') (node as { commentBefore?: string }).commentBefore = comment.split('\n').map((l) => ` ${l}`).join('\n');
}

/**
 * The discovered inventory as commented YAML, validated first (InventoryError naming each bad
 * field if the cluster cannot be described). Each node carries its member ID, role, etcd version
 * and where its settings were read; the header says what was left out and what to check.
 */
export function inventoryYaml(d: Discovery, now = new Date()): { text: string; inventory: Inventory } {
  const obj = inventoryOf(d);
  const inventory = parseInventory(obj, '(discovered)');
  const doc = new Document(obj);
  const header = [
    `Written by 'etcd-runbooks inventory discover' on ${now.toISOString()} from ${d.nodes.map((n) => n.name).join(', ')}.`,
    'Host keys were confirmed when read; check privateKeyPath is where the worker keeps the key.',
    'A node that is to become a member later (expand, replace, migrate) is added under nodes: by hand.',
    ...(d.differingSettings.length ? [`Left out of memberSettings (their values differ between members): ${d.differingSettings.join(', ')}.`] : []),
    ...d.skipped.map((s) => `Left out: ${s}.`),
  ];
  doc.commentBefore = header.map((l) => ` ${l}`).join('\n');
  const nodes = doc.get('nodes', true) as YAMLSeq | undefined;
  if (isSeq(nodes)) {
    nodes.items.forEach((item, i) => {
      const n = d.nodes[i];
      setComment(item, `member ${n.member.id}${n.member.isLearner ? ' (learner)' : n.leader ? ' (leader)' : ''}, etcd ${n.version ?? 'did not answer'}, read from ${n.config.source}`);
      if (isMap(item)) for (const k of ['ssh', 'etcd']) { const v = (item as YAMLMap).get(k, true); if (isMap(v)) (v as YAMLMap).flow = true; }
    });
  }
  return { text: doc.toString({ lineWidth: 0 }), inventory };
}
