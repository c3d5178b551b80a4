import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findClientCertificate, NoMemberConfigError, parseEnvironmentFile, readMemberConfig, type NodeShell } from '../../activities/runtime/discover';

// Captured on the lab: a systemd member's /etc/default/etcd and `systemctl show`, a node without
// the unit, and a stacked control-plane node's etcd and kube-apiserver manifests and kubelet flags.
const FIX = join(__dirname, '..', 'fixtures', 'node-output');
const fixture = (name: string) => readFileSync(join(FIX, name), 'utf8');

/** A node shell that answers from captured files: `cat PATH` and `systemctl show`, `test -f` on the files it has. */
function scriptedNode(files: Record<string, string>, show: string): NodeShell & { calls: string[][] } {
  const calls: string[][] = [];
  const shell = (async (argv: readonly string[]) => {
    calls.push([...argv]);
    if (argv[0] === 'cat') {
      const text = files[argv[2]];
      return text === undefined ? { exitCode: 1, stdout: '', stderr: `cat: ${argv[2]}: No such file or directory` } : { exitCode: 0, stdout: text, stderr: '' };
    }
    if (argv[0] === 'systemctl' && argv[1] === 'show') return { exitCode: 0, stdout: show, stderr: '' };
    if (argv[0] === 'test') return { exitCode: argv.filter((a) => a.startsWith('/')).every((p) => p in files) ? 0 : 1, stdout: '', stderr: '' };
    throw new Error(`unscripted command ${argv.join(' ')}`);
  }) as NodeShell & { calls: string[][] };
  shell.calls = calls;
  return shell;
}

describe('reading a member\'s configuration on its node', () => {
  test('systemd: the environment file the unit names gives name, data dir, advertised URLs and TLS; settings the runbooks own are not carried over', async () => {
    const node = scriptedNode({ '/etc/default/etcd': fixture('systemd-default-etcd') }, fixture('systemd-show.txt'));
    const c = await readMemberConfig(node);
    expect(c).toEqual({
      runtime: 'systemd', source: 'etcd.service + /etc/default/etcd', memberName: 'node1', dataDir: '/var/lib/etcd/default',
      clientURLs: ['https://10.213.3.11:2379'], peerURLs: ['https://10.213.3.11:2380'],
      tls: { caFile: '/etc/etcd/pki/ca.crt', serverCertFile: '/etc/etcd/pki/server.crt', serverKeyFile: '/etc/etcd/pki/server.key', peerCertFile: '/etc/etcd/pki/peer.crt', peerKeyFile: '/etc/etcd/pki/peer.key' },
      systemd: { unit: 'etcd.service', environmentFile: '/etc/default/etcd', etcdUser: 'etcd' }, settings: {},
    });
    // The manifest is looked for first (absent here), then the unit.
    expect(node.calls.map((a) => a.slice(0, 2).join(' '))).toEqual(['cat --', 'systemctl show', 'cat --']);
  });

  test('systemd: a setting such as the quota is kept for memberSettings; quoted values are unquoted', () => {
    const env = parseEnvironmentFile(`${fixture('systemd-default-etcd')}ETCD_QUOTA_BACKEND_BYTES="8589934592"\n# ETCD_SNAPSHOT_COUNT=1\nDAEMON_ARGS=""\n`);
    expect(env.ETCD_QUOTA_BACKEND_BYTES).toBe('8589934592');
    expect(env.ETCD_SNAPSHOT_COUNT).toBeUndefined();
    expect(env.DAEMON_ARGS).toBe('');
  });

  test('kubeadm: the static pod manifest and kubelet\'s flags (--node-ip) give the member and the runtime settings', async () => {
    const node = scriptedNode({
      '/etc/kubernetes/manifests/etcd.yaml': fixture('stacked-etcd.yaml'), '/var/lib/kubelet/kubeadm-flags.env': fixture('stacked-kubeadm-flags.env'),
    }, '');
    const c = await readMemberConfig(node);
    expect(c).toMatchObject({
      runtime: 'kubeadm', source: '/etc/kubernetes/manifests/etcd.yaml', memberName: 'node1', dataDir: '/var/lib/etcd/default',
      clientURLs: ['https://10.213.4.11:2379'], peerURLs: ['https://10.213.4.11:2380'],
      tls: { caFile: '/etc/kubernetes/pki/etcd/ca.crt', serverCertFile: '/etc/kubernetes/pki/etcd/server.crt', peerKeyFile: '/etc/kubernetes/pki/etcd/peer.key' },
      kubeadm: { manifestsDir: '/etc/kubernetes/manifests', imagePullPolicy: 'IfNotPresent', kubeletNodeIP: true },
    });
    expect(c.kubeadm?.criSocket).toBeUndefined();
  });

  test('neither a manifest nor the unit: NoMemberConfigError naming both', async () => {
    const node = scriptedNode({}, fixture('systemd-show-missing.txt'));
    await expect(readMemberConfig(node, { unit: 'nosuch.service' })).rejects.toThrow(NoMemberConfigError);
    await expect(readMemberConfig(node, { unit: 'nosuch.service' })).rejects.toThrow('neither /etc/kubernetes/manifests/etcd.yaml nor the unit nosuch.service is there (LoadState not-found)');
  });

  test('the client certificate: the apiserver\'s etcd client pair when its manifest names one, else client.crt beside the CA, else none', async () => {
    const stacked = scriptedNode({ '/etc/kubernetes/manifests/kube-apiserver.yaml': fixture('stacked-kube-apiserver.yaml') }, '');
    expect(await findClientCertificate(stacked, '/etc/kubernetes/pki/etcd/ca.crt'))
      .toEqual({ certFile: '/etc/kubernetes/pki/apiserver-etcd-client.crt', keyFile: '/etc/kubernetes/pki/apiserver-etcd-client.key' });
    const systemd = scriptedNode({ '/etc/etcd/pki/client.crt': '', '/etc/etcd/pki/client.key': '' }, '');
    expect(await findClientCertificate(systemd, '/etc/etcd/pki/ca.crt')).toEqual({ certFile: '/etc/etcd/pki/client.crt', keyFile: '/etc/etcd/pki/client.key' });
    expect(await findClientCertificate(scriptedNode({}, ''), '/etc/etcd/pki/ca.crt')).toBeUndefined();
  });
});
