import { parseInventory, InventoryError, type Inventory } from '../../inventory/schema';

function valid(): Record<string, unknown> {
  const node = (i: number) => ({
    name: `node${i}`,
    ssh: { host: `10.213.0.${10 + i}`, port: 22, user: 'root', hostKeyFingerprint: 'SHA256:2+zuBjD08sp/t/l/szUg+eIK5XrPAcIGFupNJE/sQ5k', privateKeyPath: '/keys/id_ed25519' },
    etcd: { memberName: `node${i}`, peerURL: `https://10.213.0.${10 + i}:2380`, clientURL: `https://10.213.0.${10 + i}:2379`, dataDir: '/var/lib/etcd/default' },
  });
  return {
    cluster: 'lab', runtime: 'systemd', backupDir: '/var/backups/etcd',
    tls: { caFile: '/p/ca.crt', serverCertFile: '/p/s.crt', serverKeyFile: '/p/s.key', peerCertFile: '/p/p.crt', peerKeyFile: '/p/p.key', clientCertFile: '/p/c.crt', clientKeyFile: '/p/c.key' },
    nodes: [node(1), node(2), node(3)],
  };
}

function problems(doc: unknown): string[] {
  try {
    parseInventory(doc, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(InventoryError);
    return (e as InventoryError).problems;
  }
  throw new Error('inventory was accepted');
}

describe('inventory validation', () => {
  test('a valid inventory gets systemd defaults', () => {
    const inv: Inventory = parseInventory(valid());
    expect(inv.systemd).toEqual({ unit: 'etcd.service', environmentFile: '/etc/default/etcd', etcdUser: 'etcd' });
    expect(inv.nodes[1].ssh.port).toBe(22);
  });

  test('each bad field is named', () => {
    const doc = valid() as any;
    doc.nodes[0].ssh.hostKeyFingerprint = 'MD5:aa:bb';
    doc.nodes[1].etcd.peerURL = 'https://10.213.0.12:2380,evil=https://x';
    doc.tls.caFile = 'relative/ca.crt';
    delete doc.backupDir;
    const p = problems(doc);
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^nodes\.0\.ssh\.hostKeyFingerprint: must look like SHA256:/),
      expect.stringMatching(/^nodes\.1\.etcd\.peerURL: /),
      expect.stringMatching(/^tls\.caFile: must be an absolute path/),
      expect.stringMatching(/^backupDir: /),
    ]));
  });

  test('duplicate names and URLs are refused, naming both places', () => {
    const doc = valid() as any;
    doc.nodes[2].name = 'node1';
    doc.nodes[2].etcd.peerURL = doc.nodes[0].etcd.peerURL;
    const p = problems(doc);
    expect(p).toContain('nodes.2.name: duplicate name node1 (also nodes[0])');
    expect(p).toContain('nodes.2.etcd.peerURL: duplicate etcd.peerURL https://10.213.0.11:2380 (also nodes[0])');
  });

  test('shell metacharacters in names, unknown fields and an unsupported runtime are refused', () => {
    const doc = valid() as any;
    doc.nodes[0].name = 'node1;reboot';
    doc.nodes[1].password = 'hunter2';
    doc.runtime = 'docker';
    const p = problems(doc);
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^nodes\.0\.name: must be lowercase/),
      expect.stringMatching(/^nodes\.1: Unrecognized key.*password/),
      expect.stringMatching(/^runtime: /),
    ]));
  });

  test('runtime kubeadm: defaults for the static pod; memberSettings and an external-etcd kubernetes section are refused', () => {
    const doc = valid() as any;
    doc.runtime = 'kubeadm';
    const inv = parseInventory(doc);
    expect(inv.kubeadm).toEqual(expect.objectContaining({ manifestsDir: '/etc/kubernetes/manifests', fencedDir: '/etc/kubernetes/etcd-runbooks-fenced', criSocket: 'unix:///run/containerd/containerd.sock' }));
    doc.memberSettings = { ETCD_QUOTA_BACKEND_BYTES: '8589934592' };
    doc.kubernetes = { controlPlanes: ['node1'], kubeadmConfig: '/root/k.yaml' };
    doc.kubeadm = { criSocket: 'unix:///run/x.sock; reboot' };
    const p = problems(doc);
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^memberSettings: not used with runtime kubeadm/),
      expect.stringMatching(/^kubernetes: is for external etcd/),
      expect.stringMatching(/^kubeadm\.criSocket: /),
    ]));
  });

  test('paths are absolute, normalised and plain: no "..", newlines or shell characters', () => {
    const doc = valid() as any;
    doc.tls.caFile = '/p/ca.crt\nETCD_FORCE_NEW_CLUSTER=true';
    doc.backupDir = '/var/backups/../../etc';
    doc.nodes[0].etcd.dataDir = '/var/lib/etcd/default/';
    doc.nodes[1].ssh.privateKeyPath = '/keys/id $(reboot)';
    const p = problems(doc);
    expect(p).toEqual(expect.arrayContaining([
      expect.stringMatching(/^tls\.caFile: must be an absolute path of letters/),
      expect.stringMatching(/^backupDir: must be normalised/),
      expect.stringMatching(/^nodes\.0\.etcd\.dataDir: must be normalised/),
      expect.stringMatching(/^nodes\.1\.ssh\.privateKeyPath: must be an absolute path of letters/),
    ]));
  });
});
