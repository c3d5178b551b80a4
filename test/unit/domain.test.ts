import { memberIdFrom } from '../../domain/memberId';
import { canRemoveVoter, faultTolerance, hasQuorum, isRecommendedSize, quorumSize } from '../../domain/quorum';
import { findMember, initialClusterFor, type Member } from '../../domain/members';
import { renderMemberEnvironment } from '../../domain/memberConfig';
import type { MemberId } from '../../domain/memberId';
import { servedRevision } from '../../domain/snapshotRevision';

const id = (h: string) => h as MemberId;
const m = (name: string, n: number, extra: Partial<Member> = {}): Member => ({ id: id(n.toString(16)), name, peerURLs: [`https://10.0.0.${n}:2380`], clientURLs: name ? [`https://10.0.0.${n}:2379`] : [], isLearner: false, ...extra });

describe('member IDs', () => {
  test('decimal and hex round trip without precision loss', () => {
    const big = '18446744073709551615';
    expect(memberIdFrom(big)).toBe('ffffffffffffffff');
    expect(BigInt(`0x${memberIdFrom(big)}`).toString()).toBe(big);
    expect(memberIdFrom(13545956376030741214n)).toBe('bbfce78df04002de');
  });
  test('rejects out-of-range and non-numeric input', () => {
    expect(() => memberIdFrom('18446744073709551616')).toThrow(/out of uint64/);
    expect(() => memberIdFrom('12abc')).toThrow(/decimal uint64/);
  });
});

describe('quorum math', () => {
  test.each([[1, 1, 0], [2, 2, 0], [3, 2, 1], [4, 3, 1], [5, 3, 2], [7, 4, 3]])('%i voters: quorum %i, tolerates %i', (n, q, f) => {
    expect(quorumSize(n)).toBe(q);
    expect(faultTolerance(n)).toBe(f);
  });
  test('removing voters and sizes', () => {
    expect(canRemoveVoter(3, 3, true)).toBe(true);
    expect(canRemoveVoter(3, 2, false)).toBe(true);  // removing the dead one of 3
    expect(canRemoveVoter(3, 1, true)).toBe(false);
    expect(canRemoveVoter(1, 1, true)).toBe(false);
    expect(hasQuorum(5, 3)).toBe(true);
    expect(hasQuorum(4, 2)).toBe(false);
    expect(isRecommendedSize(3)).toBe(true);
    expect(isRecommendedSize(2)).toBe(false);
    expect(() => quorumSize(0)).toThrow();
  });
});

describe('member identity', () => {
  const members = [m('node1', 1), m('node2', 2, { isLearner: true }), m('', 3)];
  test('finds voters, learners, unstarted and absent members', () => {
    expect(findMember(members, { name: 'node1', peerURL: 'https://10.0.0.1:2380' }).kind).toBe('voter');
    expect(findMember(members, { name: 'node2', peerURL: 'https://10.0.0.2:2380' }).kind).toBe('learner');
    expect(findMember(members, { name: 'node3', peerURL: 'https://10.0.0.3:2380' }).kind).toBe('unstarted');
    expect(findMember(members, { name: 'node4', peerURL: 'https://10.0.0.4:2380' }).kind).toBe('absent');
  });
  test('a name or peer URL held by another member is a conflict', () => {
    expect(findMember(members, { name: 'node1', peerURL: 'https://10.0.0.9:2380' })).toMatchObject({ kind: 'conflict', reason: expect.stringMatching(/name node1 is taken/) });
    expect(findMember(members, { name: 'other', peerURL: 'https://10.0.0.1:2380' })).toMatchObject({ kind: 'conflict', reason: expect.stringMatching(/belongs to member node1/) });
  });
  test('initial cluster lists started members plus the joining one', () => {
    expect(initialClusterFor([m('node1', 1), m('', 2)], { name: 'node2', peerURL: 'https://10.0.0.2:2380' }))
      .toBe('node1=https://10.0.0.1:2380,node2=https://10.0.0.2:2380');
    expect(() => initialClusterFor([m('node1', 1), m('', 3)], { name: 'node2', peerURL: 'https://10.0.0.2:2380' })).toThrow(/never started/);
  });
});

describe('member environment file', () => {
  const tls = { caFile: '/p/ca.crt', serverCertFile: '/p/s.crt', serverKeyFile: '/p/s.key', peerCertFile: '/p/p.crt', peerKeyFile: '/p/p.key' };
  test('joining member: state existing, TLS on both sides, loopback listener', () => {
    const env = renderMemberEnvironment({ name: 'node2', peerURL: 'https://10.0.0.2:2380', clientURL: 'https://10.0.0.2:2379', dataDir: '/var/lib/etcd/default', initialCluster: 'node1=https://10.0.0.1:2380,node2=https://10.0.0.2:2380', initialClusterState: 'existing', tls });
    expect(env).toContain('ETCD_INITIAL_CLUSTER_STATE=existing\n');
    expect(env).toContain('ETCD_INITIAL_CLUSTER=node1=https://10.0.0.1:2380,node2=https://10.0.0.2:2380\n');
    expect(env).toContain('ETCD_LISTEN_CLIENT_URLS=https://10.0.0.2:2379,https://127.0.0.1:2379\n');
    expect(env).toContain('ETCD_PEER_CLIENT_CERT_AUTH=true\n');
    expect(env).toContain('ETCD_CLIENT_CERT_AUTH=true\n');
  });
  test('refuses values that would break the environment file', () => {
    const base = { name: 'n', peerURL: 'https://x:2380', clientURL: 'https://x:2379', dataDir: '/d/x', initialCluster: 'n=https://x:2380', initialClusterState: 'existing' as const, tls };
    expect(() => renderMemberEnvironment({ ...base, name: 'a b' })).toThrow(/member config name is not a plain value/);
    // a TLS path ending in a newline would add a setting to the file
    expect(() => renderMemberEnvironment({ ...base, tls: { ...tls, caFile: '/p/ca.crt\nETCD_FORCE_NEW_CLUSTER=true' } })).toThrow(/member config caFile is not a plain value/);
    expect(() => renderMemberEnvironment({ ...base, token: 'x$(reboot)' })).toThrow(/token is not a plain value/);
    expect(renderMemberEnvironment({ ...base, initialClusterState: 'new', token: 'lab-restore-1' })).toContain('ETCD_INITIAL_CLUSTER_TOKEN=lab-restore-1\n');
  });
});

describe('the revision a restored snapshot serves', () => {
  test('a snapshot of a cluster never written to (revision 0) serves etcd\'s first revision, 1; any other its own', () => {
    expect(servedRevision(0)).toBe(1);
    expect(servedRevision(1)).toBe(1);
    expect(servedRevision(48213)).toBe(48213);
  });
});
