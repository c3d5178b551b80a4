import { planUpgrade, type UpgradeMemberView } from '../../domain/upgrade';

const m = (n: number, version: string, leader = false): UpgradeMemberView => ({ node: `node${n}`, version, isLeader: leader });

test('3.5.35 -> 3.6.16: followers in inventory order, the leader last; a minor upgrade; nothing refused', () => {
  const p = planUpgrade([m(1, '3.5.35'), m(2, '3.5.35', true), m(3, '3.5.35')], '3.6.16');
  expect(p.problems).toEqual([]);
  expect(p.members.map((x) => x.node)).toEqual(['node1', 'node3', 'node2']);
  expect(p.leader).toBe('node2');
  expect(p.minorUpgrade).toBe(true);
});

test('a resumed upgrade: members already at the target are marked, a patch upgrade is not a minor one', () => {
  const p = planUpgrade([m(1, '3.6.15', true), m(2, '3.6.16'), m(3, '3.6.15')], '3.6.16');
  expect(p.problems).toEqual([]);
  expect(p.members.map((x) => `${x.node}:${x.already}`)).toEqual(['node2:true', 'node3:false', 'node1:false']);
  expect(p.minorUpgrade).toBe(false);
});

test('refused, each named: 3.5 below 3.5.26 before 3.6, a skipped minor, a downgrade, an unknown version, a target below 3.4.4', () => {
  expect(planUpgrade([m(1, '3.5.19'), m(2, '3.5.35')], '3.6.16').problems).toEqual([
    'node1: etcd 3.5.19 must first be upgraded to 3.5.26 or later before 3.6 (etcd blog "Avoiding Zombie Cluster Members When Upgrading to etcd v3.6")',
  ]);
  expect(planUpgrade([m(1, '3.4.23')], '3.6.16').problems).toEqual(['node1: etcd 3.4.23 to 3.6.16 skips a minor version; upgrade to 3.5 first']);
  expect(planUpgrade([m(1, '3.6.16')], '3.5.35').problems[0]).toMatch(/^node1: etcd 3\.6\.16 is newer than 3\.5\.35; this runbook does not downgrade/);
  expect(planUpgrade([m(1, '')], '3.6.16').problems).toEqual(['node1: its member\'s version is unknown (no status answer)']);
  expect(planUpgrade([m(1, '3.4.2')], '3.4.3').problems[0]).toMatch(/^etcd 3\.4\.3 is below 3\.4\.4/);
  expect(planUpgrade([m(1, '3.5.35')], 'latest').problems).toEqual(['target "latest" is not a release version like 3.6.16']);
});

test('3.4 -> 3.5 from any 3.4 patch at or above 3.4.4', () => {
  expect(planUpgrade([m(1, '3.4.23'), m(2, '3.4.4', true)], '3.5.35').problems).toEqual([]);
});
