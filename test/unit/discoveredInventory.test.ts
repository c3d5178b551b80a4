import YAML from 'yaml';
import { parseSshAddress, type Discovery, type FoundNode } from '../../onboard/discover';
import { inventoryYaml } from '../../onboard/inventoryYaml';
import { parseInventory, InventoryError } from '../../inventory/schema';
import type { MemberId } from '../../domain/memberId';

const FP = 'SHA256:Ii/z7TZeQHzl/RhTYN5tW2Mq18F2Cfkdxe94cKZc62c';
const tls = { caFile: '/etc/etcd/pki/ca.crt', serverCertFile: '/etc/etcd/pki/server.crt', serverKeyFile: '/etc/etcd/pki/server.key', peerCertFile: '/etc/etcd/pki/peer.crt', peerKeyFile: '/etc/etcd/pki/peer.key' };

function node(i: number, extra: Partial<FoundNode> = {}): FoundNode {
  const addr = `10.0.0.${i}`;
  return {
    name: `etcd${i}`, ssh: { user: 'root', host: addr, port: 22, fingerprint: FP }, leader: i === 1, version: '3.5.21',
    member: { id: `${i}a2b` as MemberId, name: `etcd${i}`, peerURLs: [`https://${addr}:2380`], clientURLs: [`https://${addr}:2379`], isLearner: false },
    config: { runtime: 'systemd', source: 'etcd.service + /etc/default/etcd', memberName: `etcd${i}`, dataDir: '/var/lib/etcd/default', clientURLs: [], peerURLs: [], tls,
      systemd: { unit: 'etcd.service', environmentFile: '/etc/default/etcd', etcdUser: 'etcd' }, settings: {} },
    ...extra,
  };
}

const discovery = (over: Partial<Discovery> = {}): Discovery => ({
  cluster: 'prod', backupDir: '/var/backups/etcd-runbooks', keyPath: '/etc/etcd-runbooks/ssh/id_ed25519',
  clientCert: { certFile: '/etc/etcd/pki/client.crt', keyFile: '/etc/etcd/pki/client.key' },
  nodes: [node(1), node(2), node(3)], sharedSettings: { ETCD_QUOTA_BACKEND_BYTES: '8589934592' }, differingSettings: ['ETCD_LISTEN_METRICS_URLS'], skipped: [], ...over,
});

describe('the discovered inventory', () => {
  test('validates, and reads back as the same inventory: nodes, pins, URLs, TLS with the client pair, shared settings', () => {
    const { text, inventory } = inventoryYaml(discovery(), new Date('2026-12-03T10:00:00Z'));
    const again = parseInventory(YAML.parse(text));
    expect(again).toEqual(inventory);
    expect(again.nodes.map((n) => [n.name, n.ssh.host, n.ssh.hostKeyFingerprint, n.ssh.privateKeyPath, n.etcd.clientURL])).toEqual([1, 2, 3].map((i) =>
      [`etcd${i}`, `10.0.0.${i}`, FP, '/etc/etcd-runbooks/ssh/id_ed25519', `https://10.0.0.${i}:2379`]));
    expect(again.tls).toEqual({ ...tls, clientCertFile: '/etc/etcd/pki/client.crt', clientKeyFile: '/etc/etcd/pki/client.key' });
    expect(again.memberSettings).toEqual({ ETCD_QUOTA_BACKEND_BYTES: '8589934592' });
    expect(again.backsKubernetes).toBe(false);
  });

  test('comments say where each member was read, which is the leader, and what was left out', () => {
    const { text } = inventoryYaml(discovery({ skipped: ['member 9f: not started yet'] }), new Date('2026-12-03T10:00:00Z'));
    expect(text).toContain('# member 1a2b (leader), etcd 3.5.21, read from etcd.service + /etc/default/etcd');
    expect(text).toContain('# member 2a2b, etcd 3.5.21');
    expect(text).toContain('# Left out of memberSettings (their values differ between members): ETCD_LISTEN_METRICS_URLS.');
    expect(text).toContain('# Left out: member 9f: not started yet.');
  });

  test('external etcd: control planes that are etcd nodes by name, others with their own SSH pin', () => {
    const { inventory } = inventoryYaml(discovery({
      kubernetes: { controlPlanes: [{ name: 'etcd1' }, { name: 'cp2', ssh: { user: 'root', host: '10.0.1.2', port: 22, fingerprint: FP } }], kubeadmConfig: '/root/.kube/kubeadm-init-prod.yaml' },
    }));
    expect(inventory.backsKubernetes).toBe(true);
    expect(inventory.kubernetes?.controlPlanes).toEqual(['etcd1', { name: 'cp2', ssh: { host: '10.0.1.2', port: 22, user: 'root', hostKeyFingerprint: FP, privateKeyPath: '/etc/etcd-runbooks/ssh/id_ed25519' } }]);
  });

  test('a member name no inventory can hold is refused by the schema, naming the field', () => {
    expect(() => inventoryYaml(discovery({ nodes: [node(1, { name: 'Etcd_1' })] }))).toThrow(InventoryError);
    expect(() => inventoryYaml(discovery({ nodes: [node(1, { name: 'Etcd_1' })] }))).toThrow(/nodes\.0\.name/);
  });

  test('--from takes USER@HOST[:PORT], IPv6 in brackets', () => {
    expect(parseSshAddress('root@10.0.0.1')).toEqual({ user: 'root', host: '10.0.0.1', port: 22 });
    expect(parseSshAddress('admin@node1.example.com:2222')).toEqual({ user: 'admin', host: 'node1.example.com', port: 2222 });
    expect(parseSshAddress('root@[fd00::1]:22')).toEqual({ user: 'root', host: 'fd00::1', port: 22 });
    expect(() => parseSshAddress('10.0.0.1')).toThrow('--from: want USER@HOST[:PORT]');
  });
});
