import { advanceWatch, EMPTY_WATCH, findingsOf, type WatchedMember, type WatchProbe } from '../../domain/watch';
import { leaderOf } from '../../domain/watchHealth';

const MiB = 1024 * 1024;
/** A serving voter with a status: member ID `id`, following `leader`, at raft index `raftIndex`. */
const m = (node: string, over: Partial<WatchedMember> = {}): WatchedMember => ({
  node, learner: false, etcd: 'serving', ssh: true, memberId: `${node}-id`, leader: 'node1-id', version: '3.6.5', raftIndex: 1000, db: { size: 10 * MiB, inUse: 8 * MiB, quota: 100 * MiB }, ...over,
});
const probe = (members: WatchedMember[], at = 0, extra: Partial<WatchProbe> = {}): WatchProbe => ({ at, members, spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [], ...extra });
const keys = (p: WatchProbe) => findingsOf(p).map((f) => [f.key, f.propose?.runbook]);

describe('watch: health from the members\' statuses', () => {
  test('a healthy cluster with statuses: no finding', () => {
    expect(keys(probe([m('node1'), m('node2'), m('node3')]))).toEqual([]);
  });

  test('no member follows a leader while they answer: a report', () => {
    const fs = findingsOf(probe(['node1', 'node2', 'node3'].map((n) => m(n, { leader: '0' }))));
    expect(fs.map((f) => [f.key, f.propose])).toEqual([['no-leader', undefined]]);
    expect(fs[0].evidence).toMatch(/^no leader: node1, node2, node3 answer/);
  });

  test('members without status fields (a probe of an older worker) are not judged leaderless', () => {
    expect(keys(probe([{ node: 'node1', learner: false, etcd: 'serving', ssh: true }]))).toEqual([]);
  });

  test('a member 5,000 raft entries behind the most advanced lags: a report naming it', () => {
    const fs = findingsOf(probe([m('node1', { raftIndex: 20_000 }), m('node2', { raftIndex: 19_990 }), m('node3', { raftIndex: 15_000 })]));
    expect(fs.map((f) => f.key)).toEqual(['lagging:node3']);
    expect(fs[0].evidence).toBe('node3 lags: raft index 15000, 5000 behind the most advanced member (20000): look at its disk and network');
  });

  test('a learner: promote when caught up (90% of the leader\'s index), else remove it', () => {
    const caught = findingsOf(probe([m('node1', { raftIndex: 1000 }), m('node2'), m('node3'), m('node4', { learner: true, raftIndex: 950 })]));
    expect(caught.map((f) => [f.key, f.propose])).toEqual([['learner:node4', { runbook: 'promote', fields: { node: 'node4' } }]]);
    expect(caught[0].thresholdSeconds).toBe(1200);
    const behind = findingsOf(probe([m('node1', { raftIndex: 1000 }), m('node2'), m('node3'), m('node4', { learner: true, raftIndex: 10 })]));
    expect(behind.map((f) => [f.key, f.propose])).toEqual([['learner:node4', { runbook: 'remove-member', fields: { node: 'node4' } }]]);
  });

  test('members of different minors: reported after an hour (an upgrade may be rolling)', () => {
    const fs = findingsOf(probe([m('node1'), m('node2', { version: '3.5.21' }), m('node3')]));
    expect(fs.map((f) => [f.key, f.thresholdSeconds])).toEqual([['version-skew', 3600]]);
    expect(fs[0].evidence).toBe('members run different minors: node1 3.6.5, node2 3.5.21, node3 3.6.5: finish the upgrade (upgrade --to) or roll it back');
    expect(keys(probe([m('node1'), m('node2', { version: '3.6.4' })]))).toEqual([]);
  });

  test('a database near its quota: defrag when mostly free space, a report when in use; nothing beside a NOSPACE alarm', () => {
    const frag = { size: 90 * MiB, inUse: 20 * MiB, quota: 100 * MiB };
    expect(keys(probe([m('node1', { db: frag }), m('node2', { db: frag }), m('node3')]))).toEqual([['db-fragmented', 'defrag']]);
    const used = { size: 90 * MiB, inUse: 85 * MiB, quota: 100 * MiB };
    const fs = findingsOf(probe([m('node1', { db: used }), m('node2'), m('node3')]));
    expect(fs.map((f) => [f.key, f.propose])).toEqual([['db-full', undefined]]);
    expect(fs[0].evidence).toBe('database near its quota and in use: node1 90.0 MiB of 100.0 MiB (85.0 MiB in use): compact the history or raise --quota-backend-bytes before NOSPACE');
    expect(keys(probe([m('node1', { db: frag }), m('node2'), m('node3')], 0, { alarms: { noSpace: ['node1'], corrupt: [] } }))).toEqual([['nospace', 'defrag']]);
    expect(keys(probe([m('node1', { db: { size: 90 * MiB, inUse: 20 * MiB } })]))).toEqual([]);
  });

  test('without a quorum only the quorum loss is found', () => {
    expect(keys(probe([m('node1', { leader: '0' }), m('node2', { etcd: 'silent' }), m('node3', { etcd: 'silent' })])).map((k) => k[0])).toEqual(['quorum-lost']);
  });

  test('the leader is the one most serving members follow; none when none names one', () => {
    expect(leaderOf(probe([m('node1', { leader: 'b' }), m('node2', { leader: 'a' }), m('node3', { leader: 'b' })]))).toBe('b');
    expect(leaderOf(probe([m('node1', { leader: '0' }), m('node2', { etcd: 'silent', leader: 'a' })]))).toBeUndefined();
  });
});

describe('watch: leader changes over time', () => {
  const led = (leader: string, at: number) => probe(['node1', 'node2', 'node3'].map((n) => m(n, { leader })), at);

  test('four leader changes within 15 minutes are reported; the report closes once they age out', () => {
    let s = EMPTY_WATCH;
    const seq: [string, number][] = [['a', 0], ['a', 15_000], ['b', 30_000], ['c', 45_000], ['a', 60_000], ['b', 75_000], ['b', 90_000]];
    const opened = seq.map(([l, at]) => { const r = advanceWatch(s, led(l, at)); s = r.state; return r.change.opened.map((x) => x.key); });
    expect(opened).toEqual([[], [], [], [], [], ['leader-churn'], []]);
    expect(s.leaderChanges).toEqual([30_000, 45_000, 60_000, 75_000]);
    expect(s.reports.find((r) => r.key === 'leader-churn')?.evidence).toBe('4 leader changes in the last 15 minutes: look at disk fsync and peer round-trip latency');
    const later = advanceWatch(s, led('b', 30_000 + 15 * 60_000 + 1));
    expect(later.change.closed.map((x) => x.key)).toEqual(['leader-churn']);
  });

  test('the first leader seen is not a change; a failed probe keeps the leader', () => {
    let s = advanceWatch(EMPTY_WATCH, led('a', 0)).state;
    expect(s).toMatchObject({ leader: 'a' });
    expect(s.leaderChanges).toBeUndefined();
    s = advanceWatch(s, probe([], 15_000, { error: 'no node answered SSH' })).state;
    s = advanceWatch(s, led('a', 30_000)).state;
    expect(s.leaderChanges).toBeUndefined();
  });
});
