import { memberTable, proposalsTable, resultLines } from '../../render/tables';
import type { ClusterState } from '../../activities';
import type { MemberId } from '../../domain/memberId';

const member = (name: string, id: string, extra = {}) => ({
  id: id as MemberId, name, peerURLs: [`https://${name}:2380`], clientURLs: [`https://${name}:2379`], isLearner: false, healthy: true, isLeader: false, ...extra,
});

describe('member table', () => {
  test('header gives leader, voters, quorum and tolerated failures; rows sorted by name with roles and health', () => {
    const state: ClusterState = {
      control: 'node1', clusterId: 'c1' as MemberId, leader: 'a2' as MemberId,
      members: [member('node3', 'a3', { healthy: false, error: 'status: no answer' }), member('node2', 'a2', { isLeader: true }), member('node1', 'a1'), member('node4', 'a4', { isLearner: true })],
    };
    const out = memberTable(state);
    expect(out.split('\n')[0]).toBe('cluster c1 (leader a2; 3 voting members, quorum 2, tolerates 1 failed)');
    const rows = out.split('\n').filter((l) => /node\d/.test(l));
    expect(rows.map((r) => r.match(/node\d/)![0])).toEqual(['node1', 'node2', 'node3', 'node4']);
    expect(rows[1]).toMatch(/leader/);
    expect(rows[2]).toMatch(/UNHEALTHY: status: no answer/);
    expect(rows[3]).toMatch(/learner/);
  });

  test('an inventory node serving another cluster is named under the table with its reason', () => {
    const state: ClusterState = {
      control: 'node1', clusterId: 'c1' as MemberId, leader: 'a1' as MemberId,
      members: [member('node1', 'a1', { isLeader: true }), member('node2', 'a2'), member('node3', 'a3', { healthy: false, error: 'https://node3:2379 serves a cluster of its own' })],
      foreign: [{ endpoint: 'https://node3:2379', node: 'node3', clusterId: 'c1' as MemberId, memberId: 'a3' as MemberId, members: ['node3'], reason: 'serves a cluster of its own with the same ID c1 (members node3)' }],
    };
    const lines = memberTable(state).split('\n');
    expect(lines[lines.length - 2]).toMatch(/^ANOTHER CLUSTER on inventory nodes \(left out of every read and write; add-member, replace, migrate, upgrade, defrag, rotate-certs and remove-member of another node refuse/);
    expect(lines[lines.length - 1]).toBe('  node3 (https://node3:2379): serves a cluster of its own with the same ID c1 (members node3)');
  });
});

describe('a runbook result in words', () => {
  test('scalars, lists and a snapshot read as words, not JSON; approvals are left out', () => {
    expect(resultLines({
      outcome: 'completed', added: ['node2', 'node3'], alreadyVoters: [], voters: 3,
      snapshot: { node: 'node1', path: '/var/backups/etcd-runbooks/lab-node1-rev7.db', revision: 7, sha256: 'ab'.repeat(32) }, approvals: [{ step: 'x' }],
    })).toEqual([
      '  outcome: completed', '  added: node2, node3', '  alreadyVoters: none', '  voters: 3',
      `  snapshot: node1:/var/backups/etcd-runbooks/lab-node1-rev7.db (revision 7, sha256 ${'ab'.repeat(6)}...)`,
    ]);
  });
});

describe('proposals', () => {
  test('open first, the proposed run as the CLI takes it, the evidence; a report proposes nothing; the last probe above', () => {
    const at = Date.UTC(2026, 11, 5, 8, 0, 0);
    const out = proposalsTable({
      watching: true, cluster: 'lab', intervalSeconds: 15, probes: 9, failedProbes: 1, lastProbeAt: at,
      proposals: [
        { id: 'nospace@1', key: 'nospace', runbook: 'defrag', fields: {}, evidence: 'NOSPACE alarm raised by node1', since: at - 600_000, openedAt: at - 600_000, status: 'resolved', closedAt: at - 300_000 },
        { id: 'member-silent:node2@2', key: 'member-silent:node2', runbook: 'replace', fields: { failed: 'node2', replacement: 'node4' }, evidence: 'node2 silent (etcd does not answer; SSH fails too), 2 of 3 voters serving', since: at - 90_000, openedAt: at - 30_000, status: 'open' },
      ],
      reports: [{ key: 'ssh-only:node3', evidence: 'node3: SSH fails, its etcd serves', since: at - 70_000, openedAt: at - 10_000, status: 'open' }],
    });
    const lines = out.split('\n');
    expect(lines[0]).toBe('watch of lab: probe every 15 s; 9 probes, 1 failed; last probe 2026-12-05 08:00:00');
    const rows = lines.flatMap((l) => { const m = /^│ (open|resolved) +│ (\S+) +│ (.+?) +│ (\S+ \S+) +│/.exec(l); return m ? [m.slice(1)] : []; });
    expect(rows).toEqual([
      ['open', 'ssh-only:node3', '(report: nothing proposed)', '2026-12-05 07:58:50'],
      ['open', 'member-silent:node2@2', 'replace --failed node2 --replacement node4', '2026-12-05 07:58:30'],
      ['resolved', 'nospace@1', 'defrag', '2026-12-05 07:50:00'],
    ]);
    expect(lines.at(-1)).toBe('to start a proposed run as you: etcd-runbooks accept <id> -i <inventory>');
  });

  test('an accepted proposal names who accepted it and its run\'s state; no accept hint is left', () => {
    const at = Date.UTC(2026, 11, 5, 8, 0, 0);
    const out = proposalsTable({
      watching: true, cluster: 'lab', intervalSeconds: 15, probes: 9, failedProbes: 0, lastProbeAt: at, reports: [],
      proposals: [{ id: 'quorum-lost@2', key: 'quorum-lost', runbook: 'recover-quorum', fields: { members: ['node1', 'node2', 'node3'] }, evidence: 'quorum lost', since: at - 90_000, openedAt: at - 30_000, status: 'open',
        accepted: { by: 'alice', runId: 'r1', workflow: 'recoverQuorum', state: 'running' } }],
    });
    expect(out).toMatch(/│ open +│ quorum-lost@2 +│ recover-quorum --members node1,node2,node3 +│/);
    expect(out).toMatch(/│ +│ +│ accepted by alice: recoverQuorum running +│/);
    expect(out).not.toMatch(/etcd-runbooks accept/);
  });

  test('no watch for the cluster says so', () => {
    expect(proposalsTable({ watching: false, cluster: 'lab', proposals: [], reports: [] })).toBe('no watch runs for lab (the worker keeps one per cluster with ETCD_RUNBOOKS_WATCH=on)');
  });
});
