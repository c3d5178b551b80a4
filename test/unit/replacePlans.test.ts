import { planMigrate, planReplace } from '../../domain/replacePlans';
import type { NodeReadiness } from '../../domain/expandPlan';
import type { MemberSpec } from '../../domain/members';
import type { MemberId } from '../../domain/memberId';
import type { ObservedMember } from '../../domain/removal';

const spec = (n: number): MemberSpec => ({ node: `node${n}`, name: `node${n}`, peerURL: `https://10.0.0.${n}:2380`, clientURL: `https://10.0.0.${n}:2379`, dataDir: '/var/lib/etcd' });
const member = (n: number, healthy = true): ObservedMember => ({ id: `${n}a` as MemberId, name: `node${n}`, peerURLs: [spec(n).peerURL], clientURLs: [spec(n).clientURL], isLearner: false, healthy, isLeader: n === 1 });
const ready = (n: number, extra: Partial<NodeReadiness> = {}): NodeReadiness => ({ spec: spec(n), reachable: true, dataDirEmpty: true, tlsFilesPresent: true, etcdActive: false, ...extra });
const why = 'node4: containerd\'s CRI plugin is not serving (ctr plugins ls: cri error)';

describe('replace and migrate plans: the target node must be able to start a member', () => {
  const members = [member(1), member(2), member(3, false)];

  test('replace a failed member by a fresh node: planned, or refused with the runtime\'s reason', () => {
    expect(planReplace(members, ready(3, { reachable: false }), ready(4))).toEqual({ addReplacement: true, problems: [] });
    expect(planReplace(members, ready(3, { reachable: false }), ready(4, { runtimeProblem: why })).problems).toEqual([why]);
  });

  test('replace a failed member by its repaired node: the runtime\'s reason counts too', () => {
    const repaired = ready(3, { dataDirEmpty: false, runtimeProblem: 'node3: already a Kubernetes node' });
    expect(planReplace(members, repaired, repaired).problems).toEqual(['node3: already a Kubernetes node']);
  });

  test('migrate refuses a target whose runtime cannot start a member', () => {
    const healthy = [member(1), member(2), member(3)];
    expect(planMigrate(healthy, ready(3), ready(4)).problems).toEqual([]);
    expect(planMigrate(healthy, ready(3), ready(4, { runtimeProblem: why })).problems).toEqual([why]);
  });
});
