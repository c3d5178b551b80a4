import { chooseSurvivor, describeEvidence, type MemberEvidence } from '../../domain/recovery';

const ev = (node: string, extra: Partial<MemberEvidence>): MemberEvidence => ({ node, reachable: true, etcdActive: true, source: 'status', ...extra });

describe('choosing the survivor for --force-new-cluster', () => {
  test('highest term wins, then highest index', () => {
    expect(chooseSurvivor([ev('a', { raftTerm: 3, raftIndex: 900 }), ev('b', { raftTerm: 4, raftIndex: 100 }), ev('c', { raftTerm: 4, raftIndex: 120 })])?.node).toBe('c');
  });
  test('a running member beats evidence from files; unreachable and empty nodes never win', () => {
    expect(chooseSurvivor([ev('a', { source: 'files', raftTerm: 9, raftIndex: 9999, etcdActive: false }), ev('b', { raftTerm: 2, raftIndex: 10 })])?.node).toBe('b');
    expect(chooseSurvivor([ev('a', { reachable: false, source: 'none' }), ev('b', { source: 'none' })])).toBeUndefined();
  });
  test('ties go to the first listed', () => {
    expect(chooseSurvivor([ev('a', { raftTerm: 2, raftIndex: 5 }), ev('b', { raftTerm: 2, raftIndex: 5 })])?.node).toBe('a');
  });
  test('evidence reads as a plan line', () => {
    expect(describeEvidence(ev('node1', { raftTerm: 3, raftIndex: 1042, revision: 1001 }))).toBe('node1: running, term 3, index 1042, revision 1001');
    expect(describeEvidence({ node: 'node2', reachable: false, etcdActive: false, source: 'none', error: 'ECONNREFUSED' })).toBe('node2: does not answer (ECONNREFUSED)');
  });
});
