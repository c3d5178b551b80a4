import { chooseSurvivor, describeEvidence, type MemberEvidence } from '../../domain/recovery';

const ev = (node: string, extra: Partial<MemberEvidence>): MemberEvidence => ({ node, reachable: true, etcdActive: true, source: 'status', ...extra });

describe('choosing the survivor for --force-new-cluster', () => {
  test('highest raft index wins, never the current term (an isolated member inflates its term by campaigning)', () => {
    expect(chooseSurvivor([ev('a', { raftTerm: 3, raftIndex: 900 }), ev('b', { raftTerm: 40, raftIndex: 100 }), ev('c', { raftTerm: 4, raftIndex: 120 })])?.node).toBe('a');
  });
  test('ties on index go to the applied index, then the revision', () => {
    expect(chooseSurvivor([ev('a', { raftIndex: 50, raftAppliedIndex: 48, revision: 9 }), ev('b', { raftIndex: 50, raftAppliedIndex: 50, revision: 1 })])?.node).toBe('b');
    expect(chooseSurvivor([ev('a', { raftIndex: 50, raftAppliedIndex: 50, revision: 9 }), ev('b', { raftIndex: 50, raftAppliedIndex: 50, revision: 12 })])?.node).toBe('b');
  });
  test('a lower bound from files wins only when it is higher; unreachable and empty nodes never win', () => {
    expect(chooseSurvivor([ev('a', { source: 'files', raftIndex: 9999, etcdActive: false }), ev('b', { raftTerm: 2, raftIndex: 10 })])?.node).toBe('a');
    expect(chooseSurvivor([ev('a', { source: 'files', raftIndex: 5, etcdActive: false }), ev('b', { raftTerm: 2, raftIndex: 10 })])?.node).toBe('b');
    expect(chooseSurvivor([ev('a', { reachable: false, source: 'none' }), ev('b', { source: 'none' })])).toBeUndefined();
  });
  test('ties go to the first listed', () => {
    expect(chooseSurvivor([ev('a', { raftTerm: 2, raftIndex: 5 }), ev('b', { raftTerm: 2, raftIndex: 5 })])?.node).toBe('a');
  });
  test('evidence reads as a plan line; a lower bound says so', () => {
    expect(describeEvidence(ev('node1', { raftTerm: 3, raftIndex: 1042, raftAppliedIndex: 1042, revision: 1001 }))).toBe('node1: running, term 3, index 1042, applied 1042, revision 1001');
    expect(describeEvidence(ev('node2', { source: 'files', raftIndex: 0, etcdActive: false }))).toMatch(/node2: stopped, index >= 0 \(lower bound/);
    expect(describeEvidence({ node: 'node2', reachable: false, etcdActive: false, source: 'none', error: 'ECONNREFUSED' })).toBe('node2: does not answer (ECONNREFUSED)');
  });
});
