import { advanceWatch, EMPTY_WATCH, findingsOf, type WatchProbe, type WatchedMember } from '../../domain/watch';

const m = (node: string, etcd: WatchedMember['etcd'], ssh = true, raftIndex?: number): WatchedMember => ({ node, learner: false, etcd, ssh, ...(raftIndex !== undefined ? { raftIndex } : {}) });
const probe = (at: number, members: WatchedMember[], extra: Partial<WatchProbe> = {}): WatchProbe => ({ at, members, spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [], ...extra });
const healthy = [m('node1', 'serving'), m('node2', 'serving'), m('node3', 'serving')];

describe('watch: findings of one probe', () => {
  test('a healthy cluster has no finding', () => {
    expect(findingsOf(probe(0, healthy))).toEqual([]);
  });

  test('a member silent on etcd and SSH, the others a quorum: replace, on a spare node when one answers', () => {
    const [f] = findingsOf(probe(0, [m('node1', 'serving'), m('node2', 'silent', false), m('node3', 'serving')], { spare: ['node4'] }));
    expect(f).toMatchObject({ key: 'member-silent:node2', propose: { runbook: 'replace', fields: { failed: 'node2', replacement: 'node4' } } });
    expect(f.evidence).toBe('node2 silent (etcd does not answer; SSH fails too), 2 of 3 voters serving');
  });

  test('SSH-only loss is a report: nothing is proposed', () => {
    const fs = findingsOf(probe(0, [m('node1', 'serving'), m('node2', 'serving', false), m('node3', 'serving')]));
    expect(fs).toEqual([expect.objectContaining({ key: 'ssh-only:node2' })]);
    expect(fs[0].propose).toBeUndefined();
  });

  test('quorum lost: recover-quorum, naming the most advanced survivor by raft index', () => {
    const fs = findingsOf(probe(0, [m('node1', 'serving', true, 120), m('node2', 'silent'), m('node3', 'silent')]));
    expect(fs).toEqual([expect.objectContaining({ key: 'quorum-lost', propose: { runbook: 'recover-quorum', fields: { members: ['node1', 'node2', 'node3'] } } })]);
    expect(fs[0].evidence).toBe('quorum lost: 1 of 3 voters answer (node1), 2 needed; most advanced survivor node1 (raft index 120)');
  });

  test('a listening member (ports open, no status) is not counted lost: a report, nothing proposed', () => {
    const fs = findingsOf(probe(0, [m('node1', 'serving'), m('node2', 'listening', false), m('node3', 'serving')]));
    expect(fs.map((f) => [f.key, f.propose])).toEqual([['no-status:node2', undefined]]);
  });

  test('NOSPACE proposes defrag; CORRUPT is a report; a foreign endpoint proposes removing its member', () => {
    const fs = findingsOf(probe(0, healthy, { alarms: { noSpace: ['node1'], corrupt: ['node2'] }, foreign: [{ node: 'node3', endpoint: 'https://n3:2379', reason: 'serves cluster c9' }] }));
    expect(fs.map((f) => [f.key, f.propose?.runbook])).toEqual([['nospace', 'defrag'], ['corrupt', undefined], ['foreign:node3', 'remove-member']]);
  });

  test('a probe that failed finds nothing (a probe failure is not a member failure)', () => {
    expect(findingsOf(probe(0, [m('node1', 'silent'), m('node2', 'silent'), m('node3', 'silent')], { error: 'no node answered SSH' }))).toEqual([]);
  });
});

describe('watch: proposals over time', () => {
  const lost = (at: number) => probe(at, [m('node1', 'serving'), m('node2', 'silent', false), m('node3', 'serving')], { spare: ['node4'] });

  test('a finding becomes a proposal once it lasted its threshold, once; it closes as resolved when it clears', () => {
    let s = EMPTY_WATCH;
    const steps = [0, 15_000, 30_000, 45_000, 60_000, 75_000].map((at) => { const r = advanceWatch(s, lost(at)); s = r.state; return r.change; });
    expect(steps.map((c) => c.opened.length)).toEqual([0, 0, 0, 0, 1, 0]);
    expect(s.proposals).toEqual([expect.objectContaining({ id: 'member-silent:node2@0', runbook: 'replace', fields: { failed: 'node2', replacement: 'node4' }, since: 0, openedAt: 60_000, status: 'open' })]);
    const cleared = advanceWatch(s, probe(90_000, healthy));
    expect(cleared.change.closed).toEqual([expect.objectContaining({ id: 'member-silent:node2@0', status: 'resolved', closedAt: 90_000 })]);
    expect(cleared.state.seen).toEqual({});
  });

  test('a condition that clears before its threshold proposes nothing, and starts over when it comes back', () => {
    let s = advanceWatch(EMPTY_WATCH, lost(0)).state;
    s = advanceWatch(s, probe(30_000, healthy)).state;
    s = advanceWatch(s, lost(45_000)).state;
    const r = advanceWatch(s, lost(90_000));
    expect(r.change.opened).toEqual([]);
    expect(advanceWatch(r.state, lost(105_000)).change.opened).toEqual([expect.objectContaining({ id: 'member-silent:node2@45000' })]);
  });

  test('a failed probe keeps what was seen and counts itself; the evidence of an open proposal follows the probes', () => {
    let s = advanceWatch(EMPTY_WATCH, lost(0)).state;
    s = advanceWatch(s, lost(60_000)).state;
    const failed = advanceWatch(s, { ...lost(75_000), error: 'no node answered SSH' });
    expect(failed.state).toMatchObject({ seen: s.seen, proposals: s.proposals, failedProbes: 1 });
    const worse = advanceWatch(failed.state, probe(90_000, [m('node1', 'serving'), m('node2', 'silent', true), m('node3', 'serving')], { spare: ['node4'] }));
    expect(worse.change.updated).toEqual([expect.objectContaining({ evidence: 'node2 silent (etcd does not answer; SSH answers), 2 of 3 voters serving' })]);
  });

  test('closed proposals are kept to the newest 20', () => {
    let s = EMPTY_WATCH;
    for (let i = 0; i < 30; i++) {
      s = advanceWatch(s, probe(i * 1000, healthy, { alarms: { noSpace: ['node1'], corrupt: [] } })).state;
      s = advanceWatch(s, probe(i * 1000 + 500, healthy)).state;
    }
    expect(s.proposals).toHaveLength(20);
    expect(s.proposals.every((p) => p.status === 'resolved')).toBe(true);
  });
});
