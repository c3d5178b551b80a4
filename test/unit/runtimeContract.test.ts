import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterOps } from '../../activities/cluster';
import { runtimeOf } from '../../activities/runtime';
import { systemdState } from '../../activities/runtime/systemd';
import { parseInventory } from '../../inventory/schema';
import { FakeNodeShells } from '../support/fakeShell';

// The contract every member runtime keeps (activities/runtime/types.ts, MemberRuntime), checked
// against the scripted node shell: the same behaviour from systemd and from kubeadm's static pod.
const FIXTURES = join(__dirname, '..', 'fixtures', 'node-output');

interface Setup { shells: FakeNodeShells; ops: ClusterOps; boot(): void; operatorStart(): Promise<void>; configText(): string }

const tls = { caFile: '/p/ca.crt', serverCertFile: '/p/s.crt', serverKeyFile: '/p/s.key', peerCertFile: '/p/p.crt', peerKeyFile: '/p/p.key', clientCertFile: '/p/c.crt', clientKeyFile: '/p/c.key' };
const node = {
  name: 'node1', ssh: { host: '10.213.4.11', user: 'root', hostKeyFingerprint: 'SHA256:2+zuBjD08sp/t/l/szUg+eIK5XrPAcIGFupNJE/sQ5k', privateKeyPath: '/k' },
  etcd: { memberName: 'node1', peerURL: 'https://10.213.4.11:2380', clientURL: 'https://10.213.4.11:2379', dataDir: '/var/lib/etcd/default' },
};

/** A running systemd member: unit enabled and active, its environment file under the fake's root. */
function systemd(root: string): Setup {
  const envFile = join(root, 'default-etcd');
  const inv = parseInventory({ cluster: 'lab', runtime: 'systemd', backupDir: '/var/backups/etcd', tls, nodes: [node], systemd: { unit: 'etcd.service', environmentFile: envFile, etcdUser: 'etcd' } });
  const shells = new FakeNodeShells(root);
  const units = join(shells.nodeDir('node1'), 'systemd');
  mkdirSync(units, { recursive: true });
  writeFileSync(join(units, 'active'), 'active\n');
  writeFileSync(join(units, 'enabled'), '');
  copyFileSync(join(FIXTURES, 'systemd-default-etcd'), envFile);
  return {
    shells, ops: new ClusterOps(inv, shells),
    // A reboot forgets runtime masks and starts the enabled units.
    boot: () => {
      rmSync(join(units, 'masked'), { force: true });
      writeFileSync(join(units, 'active'), existsSync(join(units, 'enabled')) ? 'active\n' : 'inactive\n');
    },
    operatorStart: async () => { await shells.session('node1').exec(['systemctl', 'start', 'etcd.service']); },
    configText: () => readFileSync(envFile, 'utf8'),
  };
}

/** A running kubeadm member: the captured stacked etcd.yaml in the manifests dir (kubelet runs it). */
function kubeadm(root: string): Setup {
  const manifests = join(root, 'manifests');
  mkdirSync(manifests, { recursive: true });
  copyFileSync(join(FIXTURES, 'stacked-etcd.yaml'), join(manifests, 'etcd.yaml'));
  const inv = parseInventory({ cluster: 'lab', runtime: 'kubeadm', backupDir: '/var/backups/etcd', tls, nodes: [node], kubeadm: { manifestsDir: manifests, fencedDir: join(root, 'fenced') } });
  const shells = new FakeNodeShells(root, manifests);
  return {
    shells, ops: new ClusterOps(inv, shells),
    // kubelet runs at boot what is in the manifests dir: the fake's containers follow it already.
    boot: () => undefined,
    // An operator restarting kubelet: it runs what is in the manifests dir, as it does already.
    operatorStart: async () => undefined,
    configText: () => readFileSync(existsSync(join(manifests, 'etcd.yaml')) ? join(manifests, 'etcd.yaml') : join(root, 'fenced', 'etcd.yaml'), 'utf8'),
  };
}

describe.each([['systemd', systemd], ['kubeadm', kubeadm]])('member runtime contract: %s', (_kind, make) => {
  let root: string;
  let s: Setup;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'runtime-contract-'));
    s = make(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('a running member reads running; fence stops it, and neither an operator nor a boot brings it back; start does', async () => {
    const rt = runtimeOf(s.ops);
    expect(await rt.state('node1')).toBe('running');
    await rt.fence('node1');
    expect(await rt.state('node1')).toBe('stopped');
    await s.operatorStart();
    expect(await rt.state('node1')).toBe('stopped');
    s.boot();
    expect(await rt.state('node1')).toBe('stopped');
    await rt.start('node1');
    expect(await rt.state('node1')).toBe('running');
  });

  test('stop keeps a boot from starting it; retire too, and says what is left', async () => {
    const rt = runtimeOf(s.ops);
    await rt.stop('node1');
    s.boot();
    expect(await rt.state('node1')).toBe('stopped');
    await rt.start('node1');
    expect(await rt.state('node1')).toBe('running');
    expect(typeof (await rt.retire('node1'))).toBe('string');
    s.boot();
    expect(await rt.state('node1')).toBe('stopped');
  });

  test('writeConfig writes the initial cluster once: a second write changes nothing', async () => {
    const rt = runtimeOf(s.ops);
    const change = { initialCluster: 'node1=https://10.213.4.11:2380,node2=https://10.213.4.12:2380', initialClusterState: 'existing' as const };
    expect((await rt.writeConfig('node1', change)).changed).toBe(true);
    expect(s.configText()).toContain('node2=https://10.213.4.12:2380');
    expect((await rt.writeConfig('node1', change)).changed).toBe(false);
  });

  test('the fence in words names how to lift it by hand', () => {
    const { fencing, liftFence } = runtimeOf(s.ops).texts;
    expect(fencing.length).toBeGreaterThan(0);
    expect(liftFence).toMatch(/^(systemctl unmask --runtime etcd\.service|mv \S+\/fenced\/etcd\.yaml \S+\/manifests\/etcd\.yaml)$/);
  });
});

test('kubeadm: a start retried after the manifest went back restarts a kubelet that kept the old etcd pod, once the manifest is 40 s old', async () => {
  const root = mkdtempSync(join(tmpdir(), 'runtime-contract-'));
  try {
    const s = kubeadm(root);
    const rt = runtimeOf(s.ops);
    const stuck = join(s.shells.nodeDir('node1'), 'kubelet-keeps-old-pod');
    mkdirSync(s.shells.nodeDir('node1'), { recursive: true });
    writeFileSync(stuck, '');
    // The first attempt moved the manifest back a minute ago and was lost before its wait ended.
    const manifest = join(root, 'manifests', 'etcd.yaml');
    utimesSync(manifest, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(await rt.state('node1')).toBe('starting');
    await rt.start('node1');
    expect(existsSync(stuck)).toBe(false);
    expect(await rt.state('node1')).toBe('running');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('kubeadm upgrade: the image must be in containerd; use points the manifest at it keeping the old one, undo puts it back; both idempotent', async () => {
  const root = mkdtempSync(join(tmpdir(), 'runtime-contract-'));
  try {
    const s = kubeadm(root);
    const rt = runtimeOf(s.ops);
    const images = join(s.shells.nodeDir('node1'), 'images');
    mkdirSync(s.shells.nodeDir('node1'), { recursive: true });
    writeFileSync(images, 'lab.local/etcd:3.6.16-0\nregistry.k8s.io/pause:3.10\n');
    expect(await rt.releaseProblem('node1', '3.6.17')).toMatch(/^node1: no image lab\.local\/etcd:3\.6\.17-0 in containerd .*crictl pull lab\.local\/etcd:3\.6\.17-0/);
    writeFileSync(images, 'lab.local/etcd:3.6.16-0\nlab.local/etcd:3.6.17-0\n');
    expect(await rt.releaseProblem('node1', '3.6.17')).toBeUndefined();
    await rt.stop('node1');
    expect(await rt.useRelease('node1', '3.6.17')).toEqual({ changed: true });
    expect(await rt.useRelease('node1', '3.6.17')).toEqual({ changed: false });
    expect(s.configText()).toMatch(/^ *image: lab\.local\/etcd:3\.6\.17-0$/m);
    expect(await rt.undoRelease('node1', '3.6.17')).toEqual({ changed: true });
    expect(await rt.undoRelease('node1', '3.6.17')).toEqual({ changed: false });
    expect(s.configText()).toMatch(/^ *image: lab\.local\/etcd:3\.6\.16-0$/m);
    expect(existsSync(join(root, 'fenced', 'etcd.image.before-v3.6.17'))).toBe(false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('systemd states as systemctl is-active prints them (captured on the lab) map to neutral states', () => {
  expect(['active', 'reloading', 'activating', 'deactivating', 'failed', 'inactive', ''].map(systemdState))
    .toEqual(['running', 'running', 'starting', 'stopped', 'failed', 'stopped', 'stopped']);
});
