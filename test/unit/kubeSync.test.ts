import { parseAllDocuments } from 'yaml';
import { readExternalEndpoints, setExternalEndpoints, setLocalEtcdImageTag, KubeadmConfigError } from '../../activities/kube/kubeadmConfig';
import { desiredEndpoints, kubeDrift, parseApiserverArgs, sameEndpoints, unreadyApiservers, type KubeState } from '../../domain/kubeSync';
import { controlPlaneNames, parseInventory, InventoryError, sshTarget } from '../../inventory/schema';

// A kubeadm config file as the lab writes it (BCM keeps one per control-plane node), with a comment.
const FILE = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: {advertiseAddress: 10.213.0.11, bindPort: 6443}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
# external etcd, managed by etcd-runbooks
etcd:
  external:
    endpoints: [https://10.213.0.11:2379]
    caFile: /etc/etcd/pki/ca.crt
networking: {podSubnet: 10.244.0.0/16}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
`;
// The kubeadm-config ConfigMap's ClusterConfiguration as kubeadm uploads it (block style, one document).
const CM = 'apiVersion: kubeadm.k8s.io/v1beta4\nclusterName: lab\netcd:\n  external:\n    caFile: /etc/etcd/pki/ca.crt\n    endpoints:\n    - https://10.213.0.11:2379\nkind: ClusterConfiguration\n';

describe('kubeadm config: etcd.local.imageTag (stacked etcd after an upgrade)', () => {
  // As kubeadm v1.34 uploads it for the stacked lab.
  const STACKED = 'apiVersion: kubeadm.k8s.io/v1beta4\netcd:\n  local:\n    dataDir: /var/lib/etcd/default\n    imageTag: 3.5.35-0\nimageRepository: lab.local\nkind: ClusterConfiguration\n';
  test('the tag is set (or added when kubeadm used its default); the rest stays; a second set changes nothing', () => {
    const e = setLocalEtcdImageTag(STACKED, '3.6.16-0', 'cm');
    expect(e).toMatchObject({ before: '3.5.35-0', changed: true });
    expect(e.text).toBe(STACKED.replace('3.5.35-0', '3.6.16-0'));
    expect(setLocalEtcdImageTag(e.text, '3.6.16-0', 'cm')).toEqual({ text: e.text, before: '3.6.16-0', changed: false });
    const unset = setLocalEtcdImageTag(STACKED.replace('    imageTag: 3.5.35-0\n', ''), '3.6.16-0', 'cm');
    expect(unset.before).toBeUndefined();
    expect(parseAllDocuments(unset.text)[0].getIn(['etcd', 'local', 'imageTag'])).toBe('3.6.16-0');
  });
  test('external etcd has no image to set: refused by name', () => {
    expect(() => setLocalEtcdImageTag(CM, '3.6.16-0', 'kubeadm-config ConfigMap')).toThrow(/kubeadm-config ConfigMap: etcd is external/);
  });
});

describe('kubeadm config: etcd.external.endpoints', () => {
  test('a file of three documents: only the endpoints change; comments, other documents and fields stay', () => {
    const eps = ['https://10.213.0.11:2379', 'https://10.213.0.12:2379'];
    const edit = setExternalEndpoints(FILE, eps, 'f');
    expect(edit.changed).toBe(true);
    expect(edit.before).toEqual(['https://10.213.0.11:2379']);
    expect(readExternalEndpoints(edit.text, 'f')).toEqual(eps);
    expect(edit.text).toContain('# external etcd, managed by etcd-runbooks');
    expect(edit.text).toContain('localAPIEndpoint: { advertiseAddress: 10.213.0.11, bindPort: 6443 }');
    expect(edit.text).toContain('kind: KubeletConfiguration');
    expect(edit.text).toContain('caFile: /etc/etcd/pki/ca.crt');
    const kinds = (text: string) => parseAllDocuments(text).map((d) => (Array.isArray(d) ? null : d.get('kind')));
    expect(kinds(edit.text)).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
    // A second and third edit of the written file (the next runbooks) keep exactly the three documents:
    // an empty document between two markers makes kubeadm refuse the file ("kind and apiVersion is mandatory").
    const second = setExternalEndpoints(edit.text, ['https://10.213.0.12:2379'], 'f');
    const third = setExternalEndpoints(second.text, eps, 'f');
    expect(kinds(second.text)).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
    expect(kinds(third.text)).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
    expect(third.text).not.toMatch(/---\s*---/);
    expect(readExternalEndpoints(third.text, 'f')).toEqual(eps);
    // A file an earlier version left with an empty document is healed.
    expect(kinds(setExternalEndpoints(FILE.replace('---\napiVersion: kubelet', '---\n---\napiVersion: kubelet'), eps, 'f').text)).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
  });

  test('the ConfigMap document keeps block style; the same list again changes nothing', () => {
    const eps = ['https://10.213.0.12:2379', 'https://10.213.0.13:2379'];
    const edit = setExternalEndpoints(CM, eps, 'cm');
    expect(edit.text).toContain('    endpoints:\n      - https://10.213.0.12:2379\n      - https://10.213.0.13:2379\n');
    expect(edit.text).not.toContain('---');
    const again = setExternalEndpoints(edit.text, eps, 'cm');
    expect(again).toEqual({ text: edit.text, before: eps, changed: false });
  });

  test('stacked etcd, a config without the list and broken YAML are refused by name', () => {
    expect(() => readExternalEndpoints('kind: ClusterConfiguration\netcd:\n  local:\n    dataDir: /var/lib/etcd\n', 'x')).toThrow(/etcd is local \(stacked/);
    expect(() => readExternalEndpoints('kind: ClusterConfiguration\n', 'x')).toThrow(KubeadmConfigError);
    expect(() => readExternalEndpoints('kind: InitConfiguration\n', 'x')).toThrow(/no ClusterConfiguration/);
    expect(() => setExternalEndpoints('kind: [', ['a'], 'x')).toThrow(/not valid YAML/);
  });
});

describe('control-plane drift', () => {
  const desired = ['https://a:2379', 'https://b:2379', 'https://c:2379'];
  const api = (servers: string[]) => ({ containerId: 'c1', etcdServers: servers, advertiseAddress: '10.0.0.1', securePort: 6443, createdAt: '2026-01-01T00:00:00Z' });

  test('desired endpoints: voting members with a client URL, sorted; learners and unstarted members left out', () => {
    expect(desiredEndpoints([
      { isLearner: false, clientURLs: ['https://c:2379'] }, { isLearner: true, clientURLs: ['https://d:2379'] },
      { isLearner: false, clientURLs: [] }, { isLearner: false, clientURLs: ['https://a:2379'] },
    ])).toEqual(['https://a:2379', 'https://c:2379']);
  });

  test('apiserver argv: --etcd-servers, advertise address and port', () => {
    expect(parseApiserverArgs(['kube-apiserver', '--advertise-address=10.0.0.1', '--etcd-servers=https://a:2379,https://b:2379', '--secure-port=6443'])).toEqual({
      etcdServers: ['https://a:2379', 'https://b:2379'], advertiseAddress: '10.0.0.1', securePort: 6443,
    });
    expect(parseApiserverArgs(['kube-apiserver']).etcdServers).toEqual([]);
    expect(sameEndpoints(['https://b:2379', 'https://a:2379'], ['https://a:2379', 'https://b:2379'])).toBe(true);
    expect(sameEndpoints(['https://a:2379'], ['https://a:2379', 'https://b:2379'])).toBe(false);
  });

  test('drift names what is missing and extra where, per node; none when all agree', () => {
    const state: KubeState = {
      enabled: true, desired,
      configMap: { endpoints: ['https://a:2379', 'https://x:2379'] },
      nodes: [
        { node: 'cp1', reachable: true, ready: true, apiserver: api(desired), fileEndpoints: desired },
        { node: 'cp2', reachable: true, ready: false, apiserver: api(['https://a:2379', 'https://x:2379']), fileEndpoints: desired },
        { node: 'cp3', reachable: false, ready: false, error: 'connect timeout' },
      ],
    };
    expect(kubeDrift(state)).toEqual([
      'kubeadm-config ConfigMap: missing https://b:2379, https://c:2379; extra https://x:2379',
      'cp2 kube-apiserver --etcd-servers: missing https://b:2379, https://c:2379; extra https://x:2379',
      'cp2 kube-apiserver: not ready (/readyz)',
      'cp3: not reachable (connect timeout)',
    ]);
    expect(unreadyApiservers(state)).toEqual(['cp2: kube-apiserver not ready (/readyz)', 'cp3: kube-apiserver not reachable (connect timeout)']);
    expect(unreadyApiservers(state, ['cp3'])).toEqual(['cp2: kube-apiserver not ready (/readyz)']);
    expect(kubeDrift({ enabled: true, desired, configMap: { endpoints: desired }, nodes: [{ node: 'cp1', reachable: true, ready: true, apiserver: api(desired), fileEndpoints: desired }] })).toEqual([]);
  });
});

describe('inventory: kubernetes control planes', () => {
  const ssh = { host: '10.213.0.20', port: 22, user: 'root', hostKeyFingerprint: 'SHA256:2+zuBjD08sp/t/l/szUg+eIK5XrPAcIGFupNJE/sQ5k', privateKeyPath: '/keys/id_ed25519' };
  const doc = (kubernetes: unknown) => ({
    cluster: 'lab', runtime: 'systemd', backupDir: '/var/backups/etcd', kubernetes,
    tls: { caFile: '/p/ca.crt', serverCertFile: '/p/s.crt', serverKeyFile: '/p/s.key', peerCertFile: '/p/p.crt', peerKeyFile: '/p/p.key', clientCertFile: '/p/c.crt', clientKeyFile: '/p/c.key' },
    nodes: [{ name: 'node1', ssh: { ...ssh, host: '10.213.0.11' }, etcd: { memberName: 'node1', peerURL: 'https://10.213.0.11:2380', clientURL: 'https://10.213.0.11:2379', dataDir: '/var/lib/etcd/default' } }],
  });
  const problems = (k: unknown) => { try { parseInventory(doc(k), 't.yaml'); return []; } catch (e) { return (e as InventoryError).problems; } };

  test('an etcd node by name and a control-plane-only node with its own SSH; defaults filled in', () => {
    const inv = parseInventory(doc({ controlPlanes: ['node1', { name: 'cp9', ssh }], kubeadmConfig: '/root/.kube/kubeadm-init-lab.yaml' }));
    expect(controlPlaneNames(inv)).toEqual(['node1', 'cp9']);
    expect(inv.kubernetes?.kubeconfig).toBe('/etc/kubernetes/admin.conf');
    expect(inv.kubernetes?.manifestsDir).toBe('/etc/kubernetes/manifests');
    expect(sshTarget(inv, 'cp9').ssh.host).toBe('10.213.0.20');
    expect(sshTarget(inv, 'node1').ssh.host).toBe('10.213.0.11');
    expect(() => sshTarget(inv, 'nope')).toThrow(/unknown node "nope"/);
  });

  test('unknown names, SSH given for an etcd node, duplicates and bad paths name the field', () => {
    expect(problems({ controlPlanes: ['node7'], kubeadmConfig: '/k.yaml' })).toEqual(['kubernetes.controlPlanes.0: node7 is not an inventory node; give it as { name, ssh }']);
    expect(problems({ controlPlanes: [{ name: 'node1', ssh }], kubeadmConfig: '/k.yaml' })).toEqual(['kubernetes.controlPlanes.0: node1 is an inventory node: name it alone (its SSH entry is used)']);
    expect(problems({ controlPlanes: ['node1', 'node1'], kubeadmConfig: '/k.yaml' })).toEqual(['kubernetes.controlPlanes.1: duplicate control-plane node node1']);
    expect(problems({ controlPlanes: ['node1'], kubeadmConfig: 'relative.yaml' })[0]).toMatch(/^kubernetes\.kubeadmConfig: /);
    expect(problems({ controlPlanes: [], kubeadmConfig: '/k.yaml' })[0]).toMatch(/^kubernetes\.controlPlanes: /);
  });
});
