import { findingsOf, type NodeFacts, type WatchedMember, type WatchProbe } from '../../domain/watch';

const MiB = 1024 * 1024;
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-05T12:00:00Z');
const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  at: NOW, certs: (['ca', 'server', 'peer', 'client'] as const).map((role) => ({ role, notAfter: NOW + 365 * DAY })), dataDirFree: 10_000 * MiB, clock: { offsetMs: 5, errorMs: 2 }, ...over,
});
const m = (node: string, f: NodeFacts = facts(), over: Partial<WatchedMember> = {}): WatchedMember => ({ node, learner: false, etcd: 'serving', ssh: true, db: { size: 100 * MiB, inUse: 90 * MiB }, facts: f, ...over });
const probe = (members: WatchedMember[]): WatchProbe => ({ at: NOW, members, spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [] });
const expiring = (roles: string[], days: number) => facts({ certs: (['ca', 'server', 'peer', 'client'] as const).map((role) => ({ role, notAfter: NOW + (roles.includes(role) ? days : 365) * DAY })) });

describe('watch: findings from the member nodes\' certificates, disk and clocks', () => {
  test('healthy facts: nothing', () => {
    expect(findingsOf(probe([m('node1'), m('node2'), m('node3')]))).toEqual([]);
  });

  test('a member certificate within 30 days: one rotate-certs proposal for the cluster, naming each', () => {
    const fs = findingsOf(probe([m('node1'), m('node2', expiring(['server', 'peer'], 20)), m('node3', expiring(['client'], 29))]));
    expect(fs.map((f) => [f.key, f.propose])).toEqual([['cert-expiry', { runbook: 'rotate-certs', fields: {} }]]);
    expect(fs[0].evidence).toBe('certificates expire within 30 days: node2 server 2026-12-25, node2 peer 2026-12-25, node3 client 2027-01-03; the first in 20 days: rotate-certs');
    expect(findingsOf(probe([m('node1', expiring(['server'], 31))]))).toEqual([]);
  });

  test('the CA within 30 days: a report (rotate-certs keeps the CA)', () => {
    const fs = findingsOf(probe([m('node1', expiring(['ca'], 10)), m('node2', expiring(['ca'], 10))]));
    expect(fs.map((f) => [f.key, f.propose])).toEqual([['ca-expiry', undefined]]);
    expect(fs[0].evidence).toMatch(/^the CA certificate expires 2026-12-15 \(seen on node1, node2\)/);
  });

  test('a data dir without room for the WAL and two copies of the database: a report', () => {
    const fs = findingsOf(probe([m('node1'), m('node2', facts({ dataDirFree: 200 * MiB }))]));
    expect(fs.map((f) => [f.key, f.propose])).toEqual([['disk:node2', undefined]]);
    expect(fs[0].evidence).toBe('node2: 200 MiB free on its data dir\'s filesystem, database 100 MiB: a defrag, restore or moved-aside data dir needs 264 MiB: free space there');
    expect(findingsOf(probe([m('node2', facts({ dataDirFree: 264 * MiB }))]))).toEqual([]);
  });

  test('a clock over 1 s from the nodes\' median beyond its error: a report for that node only', () => {
    const fs = findingsOf(probe([m('node1'), m('node2', facts({ clock: { offsetMs: 1_900, errorMs: 50 } })), m('node3')]));
    expect(fs.map((f) => f.key)).toEqual(['clock:node2']);
    expect(fs[0].evidence).toBe('node2: clock +1895 ms from the nodes\' median (±50 ms): run time sync (systemd-timesyncd or chrony) on every node');
    expect(findingsOf(probe([m('node1'), m('node2', facts({ clock: { offsetMs: 1_100, errorMs: 200 } })), m('node3')]))).toEqual([]);
  });

  test('a node whose facts could not be read, or a member serving another cluster, is not judged', () => {
    expect(findingsOf(probe([m('node1', facts({ certs: [], dataDirFree: undefined, clock: undefined })), m('node2', expiring(['server'], 1), { foreign: true, etcd: 'silent' }), m('node3'), m('node4')]))
      .map((f) => f.key)).not.toContain('cert-expiry');
  });
});
