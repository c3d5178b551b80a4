import type { MemberId } from '../../domain/memberId';
import { foreignProblems, splitByCluster, statusesAgree, type EndpointMembers } from '../../domain/oneCluster';

const id = (s: string) => s as MemberId;
const m = (n: number, learner = false) => ({ id: id(`a${n}`), name: `node${n}`, peerURLs: [`https://10.0.0.${n}:2380`], clientURLs: [`https://10.0.0.${n}:2379`], isLearner: learner });
const url = (n: number) => `https://10.0.0.${n}:2379`;
const answer = (n: number, cluster: string, members: number[]): EndpointMembers => ({ endpoint: url(n), clusterId: id(cluster), memberId: id(`a${n}`), members: members.map((x) => m(x)) });
const rank = (u: string) => Number(u.replace(/.*\.(\d+):2379$/, '$1'));
const nodeOf = (u: string) => `node${rank(u)}`;

describe('one cluster per inventory', () => {
  test('endpoint statuses agree only on one cluster ID and one leader that is not none', () => {
    expect(statusesAgree([{ clusterId: id('c1'), leader: id('a1') }, { clusterId: id('c1'), leader: id('a1') }])).toBe(true);
    expect(statusesAgree([{ clusterId: id('c1'), leader: id('a1') }, { clusterId: id('c1'), leader: id('a3') }])).toBe(false);
    expect(statusesAgree([{ clusterId: id('c1'), leader: id('a1') }, { clusterId: id('c2'), leader: id('a1') }])).toBe(false);
    expect(statusesAgree([{ clusterId: id('c1'), leader: id('0') }])).toBe(false);
  });

  test('a node restarted with --force-new-cluster (same cluster ID, a member list of its own) is foreign; the two others are the cluster', () => {
    const s = splitByCluster([answer(1, 'c1', [1, 2, 3]), answer(2, 'c1', [1, 2, 3]), answer(3, 'c1', [3])], rank, nodeOf);
    expect(s.main.map((a) => a.endpoint)).toEqual([url(1), url(2)]);
    expect(s.foreign).toEqual([expect.objectContaining({ node: 'node3', endpoint: url(3), memberId: 'a3', members: ['node3'] })]);
    expect(s.foreign[0].reason).toMatch(/a cluster of its own with the same ID c1 \(members node3\), apart from the members node1, node2, node3: restarted with --force-new-cluster/);
  });

  test('a node restored alone from a snapshot (another cluster ID) is foreign and the reason names both IDs', () => {
    const s = splitByCluster([answer(1, 'c1', [1, 2, 3]), answer(2, 'c1', [1, 2, 3]), answer(3, 'c9', [3])], rank, nodeOf);
    expect(s.foreign.map((f) => f.node)).toEqual(['node3']);
    expect(s.foreign[0].reason).toBe('serves cluster c9 (members node3), not c1 (members node1, node2, node3)');
  });

  test('a member that applied a membership change a moment later is not foreign: each still lists the other', () => {
    const s = splitByCluster([answer(1, 'c1', [1, 2, 3, 4]), answer(2, 'c1', [1, 2, 3]), answer(3, 'c1', [1, 2, 3, 4])], rank, nodeOf);
    expect(s.foreign).toEqual([]);
    expect(s.main).toHaveLength(3);
  });

  test('two groups of equal size: the one holding the first inventory node is the cluster', () => {
    const s = splitByCluster([answer(2, 'c2', [2]), answer(1, 'c1', [1])], rank, nodeOf);
    expect(s.main.map((a) => a.endpoint)).toEqual([url(1)]);
    expect(s.foreign.map((f) => f.node)).toEqual(['node2']);
  });

  test('pre-flight problems name the node and the fix; the node a remove-member or cleanup works on is exempt', () => {
    const { foreign } = splitByCluster([answer(1, 'c1', [1, 2, 3]), answer(2, 'c1', [1, 2, 3]), answer(3, 'c1', [3])], rank, nodeOf);
    expect(foreignProblems(foreign)).toEqual([expect.stringMatching(/^node3: serves a cluster of its own .*; fix it first: remove-member --node node3, cleanup and add-member it again, or restore the cluster$/)]);
    expect(foreignProblems(foreign, 'node3')).toEqual([]);
    expect(foreignProblems(undefined)).toEqual([]);
  });
});
