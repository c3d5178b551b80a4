import { advanceWatch, EMPTY_WATCH, findingsOf, type WatchedMember, type WatchProbe } from '../../domain/watch';

const H = 3_600_000;
const NOW = Date.parse('2026-12-05T12:00:00Z');
const healthy: WatchedMember[] = ['node1', 'node2', 'node3'].map((node) => ({ node, learner: false, etcd: 'serving', ssh: true }));
const probe = (extra: Partial<WatchProbe> = {}, at = NOW, members = healthy): WatchProbe => ({ at, members, spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [], ...extra });

describe('watch: the recovery point against the inventory\'s objective', () => {
  test('no objective in the inventory: not judged', () => {
    expect(findingsOf(probe())).toEqual([]);
  });

  test('within the objective: nothing; older: backup proposed, with its age', () => {
    expect(findingsOf(probe({ recovery: { objectiveHours: 24, takenAt: NOW - 23 * H } }))).toEqual([]);
    const [f] = findingsOf(probe({ recovery: { objectiveHours: 24, takenAt: NOW - 30 * H } }));
    expect(f).toMatchObject({ key: 'recovery-point', propose: { runbook: 'backup', fields: {} } });
    expect(f.evidence).toBe('recovery point 30.0 h old (objective 24 h; taken 2026-12-04T06:00:00.000Z): back up, then drill it');
  });

  test('no backup ever passed a drill: backup proposed; a failed drill is a report', () => {
    const fs = findingsOf(probe({ recovery: { objectiveHours: 24, drillFailed: { at: NOW - H, message: 'integrity: SHA-256 mismatch' } } }));
    expect(fs.map((f) => [f.key, f.propose?.runbook])).toEqual([['recovery-point', 'backup'], ['drill-failed', undefined]]);
    expect(fs[1].evidence).toBe('the newest restore drill failed at 2026-12-05T11:00:00.000Z: integrity: SHA-256 mismatch');
  });
});

describe('watch: nothing new is proposed while a runbook runs on the cluster', () => {
  const lost = (at: number, running?: WatchProbe['running']) => probe({ spare: ['node4'], ...(running ? { running } : {}) }, at, [healthy[0], { node: 'node2', learner: false, etcd: 'silent', ssh: false }, healthy[2]]);

  test('a finding past its threshold waits for the run to end, then opens at once with its first sighting as since', () => {
    const run = { workflow: 'defragCluster', since: 0 };
    let s = EMPTY_WATCH;
    const opened = [0, 30_000, 60_000, 90_000, 105_000].map((at) => { const r = advanceWatch(s, lost(at, at < 105_000 ? run : undefined)); s = r.state; return r.change.opened.map((x) => x.key); });
    expect(opened).toEqual([[], [], [], [], ['member-silent:node2']]);
    expect(s.proposals[0]).toMatchObject({ id: 'member-silent:node2@0', since: 0, openedAt: 105_000 });
  });

  test('reports still open during a run, and an open proposal still follows its evidence and closes', () => {
    const run = { workflow: 'replaceMember', since: 0 };
    let s = EMPTY_WATCH;
    for (const at of [0, 60_000]) s = advanceWatch(s, lost(at)).state;
    expect(s.proposals.map((p) => p.status)).toEqual(['open']);
    const sshOnly = probe({ running: run }, 120_000, [healthy[0], { node: 'node2', learner: false, etcd: 'serving', ssh: false }, healthy[2]]);
    let r = advanceWatch(s, sshOnly);
    r = advanceWatch(r.state, { ...sshOnly, at: 180_000 });
    expect(r.state.proposals.map((p) => p.status)).toEqual(['resolved']);
    expect(r.state.reports.map((x) => [x.key, x.status])).toEqual([['ssh-only:node2', 'open']]);
  });
});
