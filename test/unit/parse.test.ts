import { parseEndpointHealth, parseEndpointStatus, parseHashKV, parseMemberAdd, parseMemberList, parseSnapshotStatus } from '../../activities/etcd/parse';

// Captured from etcdctl 3.4.23 on the lab (member IDs above 2^53).
const MEMBER_LIST = '{"header":{"cluster_id":1552246960953521911,"member_id":13545956376030741214,"raft_term":2},"members":[{"ID":13545956376030741214,"name":"node1","peerURLs":["https://10.213.0.11:2380"],"clientURLs":["https://10.213.0.11:2379"]},{"ID":18446744073709551615,"peerURLs":["https://10.213.0.12:2380"],"isLearner":true}]}';

describe('etcdctl JSON parsers', () => {
  test('member IDs above 2^53 survive exactly, as hex', () => {
    const { clusterId, members } = parseMemberList(MEMBER_LIST);
    expect(13545956376030741214 > Number.MAX_SAFE_INTEGER).toBe(true);
    expect(members[0].id).toBe(13545956376030741214n.toString(16));
    expect(members[0].id).toBe('bbfce78df04002de');
    expect(clusterId).toBe(1552246960953521911n.toString(16));
    // what JSON.parse would have produced: a different ID
    expect(BigInt(JSON.parse(MEMBER_LIST).members[0].ID).toString(16)).not.toBe(members[0].id);
  });

  test('an unstarted learner has an empty name and no client URLs; uint64 max is kept', () => {
    const m = parseMemberList(MEMBER_LIST).members[1];
    expect(m).toEqual({ id: 'ffffffffffffffff', name: '', peerURLs: ['https://10.213.0.12:2380'], clientURLs: [], isLearner: true });
  });

  test('member add returns the new ID and the member list', () => {
    const r = parseMemberAdd('{"header":{"cluster_id":1,"member_id":2,"raft_term":2},"member":{"ID":9007199254740993,"peerURLs":["https://b:2380"],"isLearner":true},"members":[{"ID":2,"name":"a","peerURLs":["https://a:2380"],"clientURLs":["https://a:2379"]},{"ID":9007199254740993,"peerURLs":["https://b:2380"],"isLearner":true}]}');
    expect(r.memberId).toBe((2n ** 53n + 1n).toString(16));
    expect(r.members).toHaveLength(2);
  });

  test('endpoint status: leader and counters', () => {
    const [s] = parseEndpointStatus('[{"Endpoint":"https://10.213.0.11:2379","Status":{"header":{"cluster_id":1552246960953521911,"member_id":13545956376030741214,"revision":1,"raft_term":2},"version":"3.4.23","dbSize":20480,"leader":13545956376030741214,"raftIndex":4,"raftTerm":2,"raftAppliedIndex":4,"dbSizeInUse":16384}}]');
    expect(s).toMatchObject({ endpoint: 'https://10.213.0.11:2379', memberId: 'bbfce78df04002de', leader: 'bbfce78df04002de', revision: 1, raftIndex: 4, dbSize: 20480, isLearner: false });
  });

  test('endpoint status of a member that lost quorum has no leader field: leader "0"', () => {
    // Captured on the lab after 2 of 3 members crashed.
    const [s] = parseEndpointStatus('[{"Endpoint":"https://10.213.0.11:2379","Status":{"header":{"cluster_id":8877901871082058311,"member_id":15162569641618182868,"revision":301,"raft_term":2},"version":"3.4.23","dbSize":49152,"raftIndex":312,"raftTerm":3,"raftAppliedIndex":312,"dbSizeInUse":49152}}]');
    expect(s.leader).toBe('0');
    expect(s.memberId).toBe(15162569641618182868n.toString(16));
  });

  test('endpoint health keeps failed endpoints with their error', () => {
    const h = parseEndpointHealth('[{"endpoint":"https://a:2379","health":true,"took":"5ms"},{"endpoint":"https://b:2379","health":false,"took":"2s","error":"context deadline exceeded"}]');
    expect(h).toEqual([{ endpoint: 'https://a:2379', health: true }, { endpoint: 'https://b:2379', health: false, error: 'context deadline exceeded' }]);
  });

  test('hashkv and snapshot status', () => {
    expect(parseHashKV('[{"Endpoint":"https://a:2379","HashKV":{"header":{"cluster_id":1,"member_id":10,"revision":7,"raft_term":2},"hash":1084519789,"compact_revision":-1}}]'))
      .toEqual([{ endpoint: 'https://a:2379', memberId: 'a', hash: '1084519789', revision: 7, compactRevision: -1 }]);
    // As etcd 3.6.16 answered on the lab at its compacted revision (hash_revision since 3.6).
    expect(parseHashKV('[{"Endpoint":"https://10.213.6.13:2379","HashKV":{"header":{"cluster_id":2075731929195512891,"member_id":8594473223320208023,"revision":302,"raft_term":3},"hash":2379270293,"compact_revision":302,"hash_revision":302}}]')[0])
      .toMatchObject({ hash: '2379270293', revision: 302, compactRevision: 302 });
    expect(parseSnapshotStatus('{"hash":1864734387,"revision":2,"totalKey":5,"totalSize":20480}')).toEqual({ hash: '1864734387', revision: 2, totalKey: 5, totalSize: 20480 });
  });

  test('garbage and wrong shapes give errors that say what was parsed', () => {
    expect(() => parseMemberList('Error: context deadline exceeded')).toThrow(/member list: output is not JSON/);
    expect(() => parseMemberList('{"header":{},"members":[]}')).toThrow(/member list: unexpected JSON: header.cluster_id/);
    expect(() => parseEndpointStatus('[{"Endpoint":"x","Status":{"header":{"cluster_id":1,"member_id":1,"raft_term":1},"version":"3","dbSize":1e300,"leader":1,"raftIndex":1,"raftTerm":1}}]')).toThrow(/not exactly representable/);
  });
});
