import { planExpand, type ExpandFacts } from '../../domain/expandPlan';
import type { Member, MemberSpec } from '../../domain/members';
import type { MemberId } from '../../domain/memberId';

const spec = (n: number): MemberSpec => ({ node: `node${n}`, name: `node${n}`, peerURL: `https://10.0.0.${n}:2380`, clientURL: `https://10.0.0.${n}:2379`, dataDir: '/var/lib/etcd/default' });
const member = (n: number, extra: Partial<Member> = {}): Member => ({ id: `${n}a` as MemberId, name: `node${n}`, peerURLs: [spec(n).peerURL], clientURLs: [spec(n).clientURL], isLearner: false, ...extra });
const ready = (n: number, extra = {}) => ({ spec: spec(n), reachable: true, dataDirEmpty: true, tlsFilesPresent: true, etcdActive: false, ...extra });
const facts = (extra: Partial<ExpandFacts> = {}): ExpandFacts => ({ members: [member(1)], healthyMembers: ['node1'], candidates: [ready(2), ready(3)], allowEvenSize: false, ...extra });

describe('expand plan', () => {
  test('1 -> 3: two members to add, in order', () => {
    const plan = planExpand(facts());
    expect(plan).toMatchObject({ toAdd: [spec(2), spec(3)], problems: [], votersBefore: 1, votersAfter: 3 });
  });

  test('re-run on a cluster that already has them: nothing to do', () => {
    const plan = planExpand(facts({ members: [member(1), member(2), member(3)], healthyMembers: ['node1', 'node2', 'node3'] }));
    expect(plan.toAdd).toEqual([]);
    expect(plan.alreadyVoters).toEqual(['node2', 'node3']);
  });

  test('resumes a member left as our learner or unstarted entry', () => {
    const plan = planExpand(facts({ members: [member(1), member(2, { isLearner: true })] }));
    expect(plan.problems).toEqual([]);
    expect(plan.toAdd.map((s) => s.node)).toEqual(['node2', 'node3']);
  });

  test('refuses: even final size, unhealthy member, non-empty data dir, unreachable node, foreign learner', () => {
    expect(planExpand(facts({ candidates: [ready(2)] })).problems).toEqual([expect.stringMatching(/end with 2 voting members.*--allow-even-size/)]);
    expect(planExpand(facts({ candidates: [ready(2)], allowEvenSize: true })).problems).toEqual([]);
    expect(planExpand(facts({ healthyMembers: [] })).problems).toEqual([expect.stringMatching(/member node1 .* is not healthy/)]);
    expect(planExpand(facts({ candidates: [ready(2, { dataDirEmpty: false }), ready(3)] })).problems).toEqual([expect.stringMatching(/node2: data dir .* is not empty/)]);
    expect(planExpand(facts({ candidates: [ready(2, { reachable: false }), ready(3)] })).problems).toEqual([expect.stringMatching(/node2: not reachable/)]);
    expect(planExpand(facts({ members: [member(1), member(9, { isLearner: true })] })).problems).toEqual([expect.stringMatching(/learner node9 is already in the cluster/)]);
  });

  test('refuses a node its member runtime cannot start a member on (kubeadm: already joined, CRI down), before any change', () => {
    const why = 'node2: containerd\'s CRI plugin is not serving (ctr plugins ls: cri error)';
    const plan = planExpand(facts({ candidates: [ready(2, { runtimeProblem: why }), ready(3)] }));
    expect(plan.problems).toEqual([why]);
    // A node that already is a voter is not joined again: its runtime is not asked.
    expect(planExpand(facts({ members: [member(1), member(2)], healthyMembers: ['node1', 'node2'], candidates: [ready(2, { runtimeProblem: why }), ready(3)], allowEvenSize: true })).problems).toEqual([]);
  });

  test('refuses a node whose name or peer URL belongs to another member', () => {
    const other = member(2, { name: 'intruder' });
    expect(planExpand(facts({ members: [member(1), other], healthyMembers: ['node1', 'intruder'] })).problems).toContainEqual(expect.stringMatching(/node2: peer URL .* belongs to member intruder/));
  });
});
