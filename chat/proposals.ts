import type { Actor } from '../domain/identity';
import type { Report } from '../domain/watch';
import type { ProposalsView, RunService, ShownProposal } from '../service/runs';
import { PollLoop } from './poll';

/** A proposal or report of a cluster's watch as a chat bridge posts it: `id` is the proposal's id, or `<key>@<since>` for a report. */
export interface Posting { cluster: string; id: string; proposal?: ShownProposal; report?: Report; status: 'open' | 'resolved'; text: string }

/** What the bridge does for one posting: post it once, edit it when its text changes, close it (edit, then a note in its thread). */
export type PostAction = { kind: 'post' | 'edit' | 'close'; posting: Posting };

const flag = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The proposed run as a person would type it in chat: `replace lab failed=node3 replacement=node4`. */
export function proposedCommand(cluster: string, p: { runbook: string; fields: Record<string, unknown> }): string {
  return [p.runbook, cluster, ...Object.entries(p.fields).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`)].join(' ');
}

/** How to accept in Matrix (chat/matrix.ts); Slack has a button (chat/slack.ts). */
export const MATRIX_ACCEPT = 'React 👍 or reply "accept" to start it as you';

/** The text of a proposal or report in chat: the evidence, the proposed run, how to accept it (`howToAccept`), and its state. */
export function postingText(cluster: string, x: { proposal?: ShownProposal; report?: Report }, howToAccept = MATRIX_ACCEPT): string {
  const when = (ms?: number) => new Date(ms ?? 0).toISOString().replace('T', ' ').slice(0, 19);
  if (x.report) {
    const r = x.report;
    return `REPORT on ${cluster} (since ${when(r.since)} UTC): ${r.evidence}\nNothing is proposed: a person should look.${r.status === 'resolved' ? `\nRESOLVED at ${when(r.closedAt)} UTC: the condition cleared.` : ''}`;
  }
  const p = x.proposal!;
  const head = `PROPOSAL ${p.id} on ${cluster} (since ${when(p.since)} UTC): ${p.evidence}\nProposed: ${proposedCommand(cluster, p)} (flags: ${Object.keys(p.fields).map((k) => `--${flag(k)}`).join(' ') || 'none'})`;
  if (p.status === 'resolved') return `${head}\nRESOLVED at ${when(p.closedAt)} UTC: the condition cleared.`;
  if (p.accepted) return `${head}\nACCEPTED by ${p.accepted.by}: ${p.accepted.workflow} ${p.accepted.state} (run ${p.accepted.runId}).`;
  return `${head}\n${howToAccept}; its destructive steps then wait for approval as usual (four-eyes: another approver).`;
}

/** The postings of one cluster's watch view: proposals and reports, open and recently resolved. */
export function postingsOf(view: ProposalsView, howToAccept = MATRIX_ACCEPT): Posting[] {
  const out: Posting[] = [];
  for (const p of view.proposals) out.push({ cluster: view.cluster, id: p.id, proposal: p, status: p.status, text: postingText(view.cluster, { proposal: p }, howToAccept) });
  for (const r of view.reports) out.push({ cluster: view.cluster, id: `${r.key}@${r.since}`, report: r, status: r.status, text: postingText(view.cluster, { report: r }, howToAccept) });
  return out;
}

/** What the bridge knows it posted, by `<cluster>/<id>`: the text last posted and whether it was closed. */
export interface Posted { event: string; text: string; closed: boolean }

/**
 * What to do for one read of the watches, pure: an open posting never posted is posted when it
 * opened at or after `since` (older ones were posted before a restart of the bridge); a posted one
 * whose text changed is edited; a posted one now resolved is closed once. A posting the watch no
 * longer lists (dropped from its bounded history) needs nothing.
 */
export function postActions(posted: ReadonlyMap<string, Posted>, postings: readonly Posting[], since: number): PostAction[] {
  const out: PostAction[] = [];
  for (const x of postings) {
    const was = posted.get(`${x.cluster}/${x.id}`);
    const openedAt = x.proposal?.openedAt ?? x.report?.openedAt ?? 0;
    if (!was) {
      if (x.status === 'open' && openedAt >= since) out.push({ kind: 'post', posting: x });
    } else if (!was.closed && x.status === 'resolved') out.push({ kind: 'close', posting: x });
    else if (!was.closed && was.text !== x.text) out.push({ kind: 'edit', posting: x });
  }
  return out;
}

/** Whether a posting still takes an accept (an open proposal nobody accepted): Slack shows its button then. */
export const acceptable = (x: Posting): boolean => x.status === 'open' && Boolean(x.proposal) && !x.proposal?.accepted;

/** How a bridge posts: a new message (its id back), an edit of it, a note in its thread. */
export interface PostSink {
  post(x: Posting): Promise<string>;
  edit(event: string, x: Posting): Promise<void>;
  note(event: string, text: string): Promise<void>;
}

/**
 * Posts every cluster's proposals and reports to one chat room or channel once, reading each
 * watch every `intervalMs` (service.proposals for each inventory's cluster): the message follows
 * the evidence and the acceptance (edited) and says when it resolved. At start it looks back
 * `lookBackMs` (default 1 h) so what opened while the bridge was down is still posted; `find`
 * answers which posting a message is (for accept by reaction or reply). Chat errors are logged
 * and retried at the next read.
 */
export class ProposalPosts {
  private readonly posted = new Map<string, Posted>();
  private readonly byEvent = new Map<string, { cluster: string; id: string }>();
  private readonly since: number;
  private readonly poll: PollLoop;

  constructor(private readonly service: RunService, private readonly reader: Actor, private readonly sink: PostSink,
    private readonly o: { intervalMs?: number; lookBackMs?: number; howToAccept?: string; log?: (m: string) => void } = {}) {
    this.since = Date.now() - (o.lookBackMs ?? 3600_000);
    this.poll = new PollLoop(() => this.readOnce(), o.intervalMs ?? 5_000, 'proposals', o.log);
  }

  /** The proposal a message of the bridge posted is, or undefined (not one, or a report). */
  find(event: string): { cluster: string; id: string } | undefined {
    return this.byEvent.get(event);
  }

  start(): void {
    this.poll.start();
  }

  stop(): Promise<void> {
    return this.poll.stop();
  }

  /** One read of every watch, and the posts it calls for. */
  async readOnce(): Promise<void> {
    for (const cluster of this.service.clusters()) {
      const view = await this.service.proposals(this.reader, cluster);
      if (!view.watching) continue;
      for (const a of postActions(this.posted, postingsOf(view, this.o.howToAccept), this.since)) {
        const key = `${a.posting.cluster}/${a.posting.id}`;
        const was = this.posted.get(key);
        if (a.kind === 'post') {
          const event = await this.sink.post(a.posting);
          this.posted.set(key, { event, text: a.posting.text, closed: false });
          if (a.posting.proposal) this.byEvent.set(event, { cluster, id: a.posting.id });
        } else if (was) {
          await this.sink.edit(was.event, a.posting);
          if (a.kind === 'close') await this.sink.note(was.event, `resolved: ${a.posting.id} on ${cluster}: the condition cleared`);
          this.posted.set(key, { ...was, text: a.posting.text, closed: a.kind === 'close' });
        }
      }
    }
  }
}
