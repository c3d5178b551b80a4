import { describeLiveness, etcdLiveness, judgeQuorum, splitBrainProblems, type MemberLiveness } from '../../domain/liveness';

const st = { memberId: 'a1', clusterId: 'c1', leader: 'a1', raftTerm: 2, raftIndex: 100, raftAppliedIndex: 100, revision: 50, isLearner: false, version: '3.4.23' };
const m = (node: string, extra: Partial<MemberLiveness>): MemberLiveness => ({ node, ssh: { ok: true }, seenBy: [], selfSeen: false, workerTcp: { client: false, peer: false }, ...extra });

describe('liveness judged from etcd, not from SSH', () => {
  test('a member whose SSH fails but whose etcd answers another node is serving', () => {
    const node2 = m('node2', { ssh: { ok: false, error: 'timed out' }, seenBy: ['node1'], workerTcp: { client: true, peer: true }, status: st });
    expect(etcdLiveness(node2)).toBe('serving');
    expect(describeLiveness(node2)).toBe('node2: ssh FAILS (timed out); etcd serving (seen by node1); etcd 3.4.23, raft index 100, revision 50');
  });
  test('open ports without a status count as listening; only its own node reaching it is isolated', () => {
    expect(etcdLiveness(m('n', { workerTcp: { client: false, peer: true } }))).toBe('listening');
    expect(etcdLiveness(m('n', { selfSeen: true, status: st }))).toBe('isolated');
    expect(etcdLiveness(m('n', {}))).toBe('silent');
  });
  test('recover-quorum must refuse: 3 healthy members, SSH blocked to two of them', () => {
    const all = [
      m('node1', { seenBy: ['node1'].filter(() => false), selfSeen: true, status: st, voterIds: ['a1', 'a2', 'a3'], workerTcp: { client: true, peer: true } }),
      m('node2', { ssh: { ok: false }, seenBy: ['node1'], status: { ...st, memberId: 'a2' }, voterIds: ['a1', 'a2', 'a3'], workerTcp: { client: true, peer: true } }),
      m('node3', { ssh: { ok: false }, seenBy: ['node1'], status: { ...st, memberId: 'a3' }, voterIds: ['a1', 'a2', 'a3'], workerTcp: { client: true, peer: true } }),
    ];
    expect(judgeQuorum(all)).toEqual({ voters: 3, answering: ['node1', 'node2', 'node3'], quorum: 2, hasQuorum: true });
  });
  test('quorum really lost: two crashed, one cut off from the network', () => {
    const all = [m('node1', { selfSeen: true, status: st, voterIds: ['a1', 'a2', 'a3'] }), m('node2', { ssh: { ok: false } }), m('node3', { ssh: { ok: false } })];
    expect(judgeQuorum(all)).toMatchObject({ voters: 3, answering: [], hasQuorum: false });
  });
  test('the voter count is the largest member list seen, not just the nodes named', () => {
    const all = [m('node1', { seenBy: ['node2'], status: st, voterIds: ['a1', 'a2', 'a3', 'a4', 'a5'] }), m('node2', { seenBy: ['node1'], status: st })];
    expect(judgeQuorum(all)).toMatchObject({ voters: 5, quorum: 3, hasQuorum: false });
  });
  test('two cluster IDs or two voter sets among serving members are a split brain', () => {
    const a = m('node1', { status: st, voterIds: ['a1'] });
    const b = m('node2', { status: { ...st, clusterId: 'c2' }, voterIds: ['a1', 'a2'] });
    expect(splitBrainProblems([a, b])).toEqual([
      'members report different cluster IDs: node1=c1, node2=c2',
      'members disagree on the voting members: node1=[a1]; node2=[a1,a2]',
    ]);
    expect(splitBrainProblems([a, m('node3', { status: st, voterIds: ['a1'] })])).toEqual([]);
  });
});
