import { EtcdManifestError, etcdImagesOf, flagValue, manifestCommand, manifestDataDirVolume, manifestImage, setManifestAnnotation, setManifestFlags, setManifestImage } from '../../activities/runtime/manifest';
import { parseJoinCommand } from '../../activities/runtime/kubeadmJoin';
import { parse } from 'yaml';

// As `kubeadm join --control-plane` v1.34 writes it (trimmed of probes).
const MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/etcd.advertise-client-urls: https://10.9.0.12:2379
  labels:
    component: etcd
    tier: control-plane
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    - --advertise-client-urls=https://10.9.0.12:2379
    - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    - --data-dir=/var/lib/etcd
    - --initial-advertise-peer-urls=https://10.9.0.12:2380
    - --initial-cluster=node1=https://10.9.0.11:2380,node2=https://10.9.0.12:2380
    - --initial-cluster-state=existing
    - --name=node2
    image: lab.local/etcd:3.6.16-0
    name: etcd
  hostNetwork: true
  volumes:
  - hostPath:
      path: /etc/kubernetes/pki/etcd
      type: DirectoryOrCreate
    name: etcd-certs
  - hostPath:
      path: /var/lib/etcd
      type: DirectoryOrCreate
    name: etcd-data
`;

describe('kubeadm etcd static pod manifest', () => {
  test('reads the etcd command, its flags and the data dir volume', () => {
    const cmd = manifestCommand(MANIFEST);
    expect(cmd[0]).toBe('etcd');
    expect(flagValue(cmd, 'initial-cluster')).toBe('node1=https://10.9.0.11:2380,node2=https://10.9.0.12:2380');
    expect(flagValue(cmd, 'force-new-cluster')).toBeUndefined();
    expect(manifestDataDirVolume(MANIFEST)).toBe('/var/lib/etcd');
  });

  test('sets flags in place, appends new ones, removes null ones; the rest of the manifest stays', () => {
    const out = setManifestFlags(MANIFEST, { 'initial-cluster': 'node2=https://10.9.0.12:2380', 'initial-cluster-state': 'new', 'initial-cluster-token': 'restore-1', 'force-new-cluster': '' });
    expect(out.changed).toBe(true);
    const cmd = manifestCommand(out.text);
    expect(cmd.indexOf('--initial-cluster=node2=https://10.9.0.12:2380')).toBe(5);
    expect(cmd).toContain('--initial-cluster-state=new');
    expect(cmd.slice(-2)).toEqual(['--initial-cluster-token=restore-1', '--force-new-cluster']);
    expect(out.text).toContain('kubeadm.kubernetes.io/etcd.advertise-client-urls: https://10.9.0.12:2379');
    expect(out.text).toContain('image: lab.local/etcd:3.6.16-0');
    const back = setManifestFlags(out.text, { 'force-new-cluster': null, 'initial-cluster-token': null });
    expect(flagValue(manifestCommand(back.text), 'force-new-cluster')).toBeUndefined();
    expect(manifestCommand(back.text)).toHaveLength(cmd.length - 2);
  });

  test('the same values again change nothing (idempotent writes)', () => {
    const out = setManifestFlags(MANIFEST, { name: 'node2', 'initial-cluster-state': 'existing', 'force-new-cluster': null });
    expect(out).toEqual({ text: MANIFEST, changed: false });
  });

  test('a stamp annotation changes the content (a new static pod UID) and keeps kubeadm\'s annotation and the command', () => {
    const a = setManifestAnnotation(MANIFEST, 'etcd-runbooks/written-at', '2026-11-22T05:00:00.000Z');
    const b = setManifestAnnotation(a, 'etcd-runbooks/written-at', '2026-11-22T05:00:01.000Z');
    expect(a).not.toBe(MANIFEST);
    expect(b).not.toBe(a);
    expect(b).toContain('kubeadm.kubernetes.io/etcd.advertise-client-urls: https://10.9.0.12:2379');
    expect(b).toContain('etcd-runbooks/written-at: 2026-11-22T05:00:01.000Z');
    expect(manifestCommand(b)).toEqual(manifestCommand(MANIFEST));
  });

  test('a manifest without an etcd container or with broken YAML is refused by name', () => {
    expect(() => manifestCommand(MANIFEST.replace('name: etcd\n  hostNetwork', 'name: other\n  hostNetwork'), 'node2:/m/etcd.yaml')).toThrow(/node2:\/m\/etcd.yaml: no container "etcd"/);
    expect(() => setManifestFlags('spec: [', { x: '1' })).toThrow(EtcdManifestError);
  });

  test('the etcd image: read, set (only the image changes), and the images of a version a node holds, newest build first', () => {
    expect(manifestImage(MANIFEST)).toBe('lab.local/etcd:3.6.16-0');
    const set = setManifestImage(MANIFEST, 'lab.local/etcd:3.6.17-0');
    expect(set.changed).toBe(true);
    expect(manifestImage(set.text)).toBe('lab.local/etcd:3.6.17-0');
    expect(parse(set.text.replace('3.6.17-0', '3.6.16-0'))).toEqual(parse(MANIFEST));
    expect(setManifestImage(MANIFEST, 'lab.local/etcd:3.6.16-0')).toEqual({ text: MANIFEST, changed: false });
    // `ctr images ls -q` on a node: other repositories, other versions, digests.
    const refs = ['registry.k8s.io/etcd:3.6.17-0', 'lab.local/etcd:3.6.17-0', 'lab.local/etcd:3.6.17-1', 'lab.local/etcd:3.6.170-0', 'lab.local/etcd:3.6.1', 'lab.local/etcdx:3.6.17-0', 'sha256:abcd', ''];
    expect(etcdImagesOf('lab.local/etcd:3.6.16-0', '3.6.17', refs)).toEqual(['lab.local/etcd:3.6.17-1', 'lab.local/etcd:3.6.17-0']);
    expect(etcdImagesOf('registry.k8s.io/etcd:3.5.35-0@sha256:ff', '3.6.17', refs)).toEqual(['registry.k8s.io/etcd:3.6.17-0']);
    expect(etcdImagesOf('lab.local/etcd:3.6.16-0', '3.6.18', refs)).toEqual([]);
    expect(() => manifestImage(MANIFEST.replace('    image: lab.local/etcd:3.6.16-0\n', ''), 'node2:etcd.yaml')).toThrow(/node2:etcd.yaml: the etcd container names no image/);
  });

  test('kubeadm token create --print-join-command output is parsed; anything else is not', () => {
    const j = parseJoinCommand(`kubeadm join 10.9.0.11:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:${'a'.repeat(64)} \n`);
    expect(j).toEqual({ endpoint: '10.9.0.11:6443', token: 'abcdef.0123456789abcdef', caCertHash: `sha256:${'a'.repeat(64)}` });
    expect(parseJoinCommand('error: no token')).toBeUndefined();
  });
});
