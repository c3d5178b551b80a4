import { acceptable, postActions, postingText, postingsOf, proposedCommand, type Posted } from '../../chat/proposals';
import type { ProposalsView, ShownProposal } from '../../service/runs';

const at = Date.UTC(2026, 11, 5, 8, 0, 0);
const proposal = (extra: Partial<ShownProposal> = {}): ShownProposal => ({
  id: 'member-silent:node3@1', key: 'member-silent:node3', runbook: 'replace', fields: { failed: 'node3', replacement: 'node4' },
  evidence: 'node3 silent (etcd does not answer; SSH fails too), 2 of 3 voters serving', since: at - 60_000, openedAt: at, status: 'open', ...extra,
});
const view = (proposals: ShownProposal[], reports: ProposalsView['reports'] = []): ProposalsView => ({ watching: true, cluster: 'lab', intervalSeconds: 15, probes: 5, failedProbes: 0, proposals, reports });

describe('proposals in chat', () => {
  test('the text gives the evidence, the run as typed in chat and as CLI flags, and how to accept', () => {
    expect(proposedCommand('lab', proposal())).toBe('replace lab failed=node3 replacement=node4');
    expect(postingText('lab', { proposal: proposal() }).split('\n')).toEqual([
      'PROPOSAL member-silent:node3@1 on lab (since 2026-12-05 07:59:00 UTC): node3 silent (etcd does not answer; SSH fails too), 2 of 3 voters serving',
      'Proposed: replace lab failed=node3 replacement=node4 (flags: --failed --replacement)',
      'React 👍 or reply "accept" to start it as you; its destructive steps then wait for approval as usual (four-eyes: another approver).',
    ]);
    expect(postingText('lab', { proposal: proposal({ accepted: { by: 'alice', runId: 'r1', workflow: 'replaceMember', state: 'running' } }) }).split('\n')[2])
      .toBe('ACCEPTED by alice: replaceMember running (run r1).');
    expect(postingText('lab', { proposal: proposal({ status: 'resolved', closedAt: at + 120_000 }) }).split('\n')[2]).toBe('RESOLVED at 2026-12-05 08:02:00 UTC: the condition cleared.');
    expect(postingText('lab', { report: { key: 'ssh-only:node2', evidence: 'node2: SSH fails, its etcd serves', since: at, openedAt: at, status: 'open' } }))
      .toBe('REPORT on lab (since 2026-12-05 08:00:00 UTC): node2: SSH fails, its etcd serves\nNothing is proposed: a person should look.');
  });

  test('posted once; edited when the evidence or acceptance changes; closed once when resolved; older than the look-back not posted', () => {
    const posted = new Map<string, Posted>();
    const first = postingsOf(view([proposal()], [{ key: 'ssh-only:node2', evidence: 'e', since: at - 10, openedAt: at - 10, status: 'open' }]));
    expect(postActions(posted, first, at).map((a) => [a.kind, a.posting.id])).toEqual([['post', 'member-silent:node3@1']]); // the report opened before `since`
    posted.set('lab/member-silent:node3@1', { event: '$e1', text: first[0].text, closed: false });
    expect(postActions(posted, first, at)).toEqual([]);
    const accepted = postingsOf(view([proposal({ accepted: { by: 'alice', runId: 'r1', workflow: 'replaceMember', state: 'running' } })]));
    expect(postActions(posted, accepted, at).map((a) => a.kind)).toEqual(['edit']);
    expect(acceptable(accepted[0])).toBe(false);
    expect(acceptable(first[0])).toBe(true);
    const resolved = postingsOf(view([proposal({ status: 'resolved', closedAt: at + 1 })]));
    expect(postActions(posted, resolved, at).map((a) => a.kind)).toEqual(['close']);
    posted.set('lab/member-silent:node3@1', { event: '$e1', text: resolved[0].text, closed: true });
    expect(postActions(posted, resolved, at)).toEqual([]);
    // A proposal resolved before the bridge ever saw it open is not posted.
    expect(postActions(new Map(), resolved, at)).toEqual([]);
  });
});
