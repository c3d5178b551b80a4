import { randomUUID } from 'node:crypto';
import { accessRef, type Access, type AccessRef } from '../config/access';
import type { Actor } from '../domain/identity';
import type { Operation } from '../service/operation';
import type { RunService } from '../service/runs';
import { DrillAlerts } from './alerts';
import { ProposalPosts } from './proposals';
import { CHAT_HELP, parseChatCommand } from './commands';
import { RunFollower, type RunSink } from './follow';
import { readCommand } from './read';
import { finalMessage, runMessage, waitingMessage } from './text';

/** How the Matrix bridge reaches the homeserver. The access token comes from the environment (chat/main.ts). */
export interface MatrixOptions {
  service: RunService;
  /** The policy, or an AccessRef read on every event (config/access.ts liveAccess). */
  access: Access | AccessRef;
  /** Homeserver base URL, e.g. https://matrix.example.org. */
  homeserver: string;
  /** The bot account's access token and user id. */
  accessToken: string;
  userId: string;
  /** The command prefix of a message (default `!etcd`). */
  prefix?: string;
  followIntervalMs?: number;
  /** Room id where a failed restore drill posts its alert (chat/alerts.ts); none: no alerts. */
  alertRoom?: string;
  /** Milliseconds between reads of failed drills (default 60 000). */
  alertIntervalMs?: number;
  /** Milliseconds between reads of the watches' proposals, posted to `alertRoom` (default 5 000). */
  proposalIntervalMs?: number;
  log?: (m: string) => void;
}

/** Who a Matrix user is here (access config `matrix.users`), or undefined: strangers are refused. */
export function matrixActor(access: Access, userId: string): Actor | undefined {
  const u = access.matrix?.users[userId];
  return u ? { principal: u.principal, method: 'matrix', channel: 'matrix', roles: u.roles } : undefined;
}

interface MatrixEvent { type: string; sender: string; event_id: string; content: Record<string, unknown> }
interface StrippedEvent { type: string; sender: string; state_key?: string; content?: { membership?: string } }
interface SyncResponse { next_batch: string; rooms?: { join?: Record<string, { timeline?: { events?: MatrixEvent[] } }>; invite?: Record<string, { invite_state?: { events?: StrippedEvent[] } }> } }
/** A waiting step's prompt: decisions count only in the room it was posted in. */
interface Prompt { room: string; cluster: string; runId: string; step: string }

const READER: Actor = { principal: 'matrix-bridge', method: 'matrix', channel: 'matrix', roles: ['viewer'] };
const APPROVE_KEYS = new Set(['👍', '👍️', '✅']);
const REJECT_KEYS = new Set(['👎', '👎️', '❌']);

/**
 * The Matrix bridge, over the Matrix Client-Server API (plain HTTP, spec v1.x): joins rooms a
 * user of the access config invites it to (declines others); `!etcd <runbook> <cluster> key=value ...` starts a runbook as the sender (mapped in
 * the access config); the run's message shows the plan and is edited in place (m.replace); a
 * waiting step is posted in the run's thread and approved by a 👍 reaction or a reply `approve`,
 * rejected by 👎 or a reply `reject <reason>`, acting as the user who reacted or replied (roles and
 * four-eyes in service/runs.ts); the end is posted with the member table. After a restart it
 * follows running runs again (their thread is in the run's memo) and reads only new events.
 * With `alertRoom`, a failed restore drill posts an alert there, and so does each proposal and
 * report of the clusters' watches (chat/proposals.ts), once, edited as its evidence changes and
 * when it resolves; a 👍 reaction or a reply `accept` on a proposal (or `!etcd accept <cluster>
 * <id>` anywhere) starts its runbook as that user (service/runs.ts accept), followed in a thread.
 */
export class MatrixBridge {
  private readonly follower: RunFollower;
  private readonly alerts?: DrillAlerts;
  private readonly proposals?: ProposalPosts;
  private readonly prompts = new Map<string, Prompt>();
  private stopped = false;
  private loop?: Promise<void>;
  private abort = new AbortController();
  private readonly log: (m: string) => void;

  constructor(private readonly o: MatrixOptions) {
    this.follower = new RunFollower(o.service, READER, o.followIntervalMs ?? 1000);
    this.log = o.log ?? ((m) => console.error(`matrix: ${m}`));
    if (o.alertRoom) {
      const room = o.alertRoom;
      this.alerts = new DrillAlerts(o.service, READER, async (text) => { await this.send(room, text); }, { intervalMs: o.alertIntervalMs ?? 60_000, log: this.log });
      this.proposals = new ProposalPosts(o.service, READER, {
        post: (x) => this.send(room, x.text), edit: (event, x) => this.edit(room, event, x.text), note: async (event, text) => { await this.send(room, text, event); },
      }, { intervalMs: o.proposalIntervalMs ?? 5_000, log: this.log });
    }
  }

  /** Skips the backlog (one sync), resumes following running runs, then serves until stop(). */
  async start(): Promise<void> {
    const first = await this.api<SyncResponse>('GET', `/_matrix/client/v3/sync?timeout=0&filter=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 0 } } }))}`);
    await this.joinInvites(first);
    const n = await this.follower.resume('matrix', (op) => this.sink(op.chat!.room, op.chat!.thread)).catch((e: Error) => { this.log(`resuming runs: ${e.message}`); return 0; });
    if (n) this.log(`following ${n} running run(s) again`);
    this.loop = this.syncLoop(first.next_batch);
    this.alerts?.start();
    this.proposals?.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.alerts?.stop();
    await this.proposals?.stop();
    await this.loop?.catch(() => undefined);
    await this.follower.stop();
  }

  private async syncLoop(since: string): Promise<void> {
    while (!this.stopped) {
      try {
        const r = await this.api<SyncResponse>('GET', `/_matrix/client/v3/sync?timeout=5000&since=${encodeURIComponent(since)}`);
        since = r.next_batch;
        await this.joinInvites(r);
        for (const [room, data] of Object.entries(r.rooms?.join ?? {})) {
          for (const ev of data.timeline?.events ?? []) {
            if (ev.sender === this.o.userId) continue;
            await this.onEvent(room, ev).catch((e: Error) => this.log(`event ${ev.event_id}: ${e.message}`));
          }
        }
      } catch (e) {
        if (this.stopped) return;
        this.log(`sync: ${(e as Error).message}`);
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
  }

  /**
   * Joins a room only when a user of the access config invited the bot; any other invite is
   * declined (left), so a stranger cannot pull the bot into a room of theirs.
   */
  private async joinInvites(sync: SyncResponse): Promise<void> {
    for (const [room, data] of Object.entries(sync.rooms?.invite ?? {})) {
      const invite = (data.invite_state?.events ?? []).find((e) => e.type === 'm.room.member' && e.state_key === this.o.userId && e.content?.membership === 'invite');
      const inviter = invite?.sender ?? '';
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(room)}`;
      if (matrixActor(accessRef(this.o.access)(), inviter)) {
        await this.api('POST', `${path}/join`, {});
      } else {
        this.log(`declined the invite to ${room} from ${inviter || 'an unknown user'}: not a user of the access config`);
        await this.api('POST', `${path}/leave`, {});
      }
    }
  }

  private async onEvent(room: string, ev: MatrixEvent): Promise<void> {
    const rel = ev.content?.['m.relates_to'] as { rel_type?: string; event_id?: string; key?: string; 'm.in_reply_to'?: { event_id?: string } } | undefined;
    if (ev.type === 'm.reaction' && rel?.rel_type === 'm.annotation' && rel.event_id) {
      const proposal = this.proposalIn(room, rel.event_id);
      if (proposal && APPROVE_KEYS.has(rel.key ?? '')) { await this.accept(room, ev.sender, proposal.cluster, proposal.id); return; }
      const p = this.promptIn(room, rel.event_id);
      if (p && APPROVE_KEYS.has(rel.key ?? '')) await this.decide(room, ev.sender, p, 'approve');
      else if (p && REJECT_KEYS.has(rel.key ?? '')) await this.decide(room, ev.sender, p, 'reject', 'rejected by reaction in Matrix');
      return;
    }
    if (ev.type !== 'm.room.message' || typeof ev.content?.body !== 'string') return;
    const body = (ev.content.body as string).replace(/^> .*\n\n/s, '').trim(); // a reply quotes its parent first
    const replyTo = rel?.['m.in_reply_to']?.event_id;
    const proposal = replyTo ? this.proposalIn(room, replyTo) : undefined;
    if (proposal && /^accept$/i.test(body)) { await this.accept(room, ev.sender, proposal.cluster, proposal.id); return; }
    const p = replyTo ? this.promptIn(room, replyTo) : undefined;
    if (p && /^approve$/i.test(body)) { await this.decide(room, ev.sender, p, 'approve'); return; }
    if (p && /^reject\b/i.test(body)) { await this.decide(room, ev.sender, p, 'reject', body.replace(/^reject\s*/i, '') || 'rejected in Matrix'); return; }
    const prefix = this.o.prefix ?? '!etcd';
    if (!body.startsWith(`${prefix} `) && body !== prefix) return;
    const actor = matrixActor(accessRef(this.o.access)(), ev.sender);
    if (!actor) { await this.send(room, `refused: ${ev.sender} has no roles in etcd-runbooks`); return; }
    try {
      const cmd = parseChatCommand(body.slice(prefix.length));
      if (cmd.verb === 'help') { await this.send(room, CHAT_HELP); return; }
      if (cmd.verb === 'accept') { await this.accept(room, ev.sender, cmd.cluster, cmd.id); return; }
      if (cmd.verb !== 'start') { await this.send(room, await readCommand(this.o.service, actor, cmd.verb, cmd.cluster)); return; }
      const root = await this.send(room, `${cmd.runbook} on ${cmd.cluster}: starting for ${ev.sender}`);
      const { operation } = await this.o.service.start(actor, cmd.runbook, cmd.cluster, cmd.fields, { chat: { kind: 'matrix', room, thread: root } });
      this.follower.follow(cmd.cluster, operation.run.runId, this.sink(room, root));
    } catch (e) {
      await this.send(room, `refused: ${(e as Error).message}`);
    }
  }

  private async decide(room: string, sender: string, p: Prompt, kind: 'approve' | 'reject', reason = ''): Promise<void> {
    const actor = matrixActor(accessRef(this.o.access)(), sender);
    if (!actor) { await this.send(room, `refused: ${sender} has no roles in etcd-runbooks`); return; }
    try {
      const text = kind === 'approve'
        ? `approved ${p.step} by ${(await this.o.service.approve(actor, p.cluster, p.step, { runId: p.runId })).by}`
        : `rejected ${p.step} by ${(await this.o.service.reject(actor, p.cluster, p.step, reason, { runId: p.runId })).by.principal}: ${reason}`;
      await this.send(room, text);
    } catch (e) {
      await this.send(room, `refused for ${sender}: ${(e as Error).message}`);
    }
  }

  /**
   * Accepts proposal `id` of `cluster` as `sender` (mapped in the access config): the run's message
   * is posted in `room` and the run is followed in its thread, like a run started by a command.
   */
  private async accept(room: string, sender: string, cluster: string, id: string): Promise<void> {
    const actor = matrixActor(accessRef(this.o.access)(), sender);
    if (!actor) { await this.send(room, `refused: ${sender} has no roles in etcd-runbooks`); return; }
    try {
      const root = await this.send(room, `proposal ${id} on ${cluster}: accepted by ${sender}, starting`);
      const { operation } = await this.o.service.accept(actor, cluster, id, { chat: { kind: 'matrix', room, thread: root } });
      this.follower.follow(cluster, operation.run.runId, this.sink(room, root));
    } catch (e) {
      await this.send(room, `refused for ${sender}: ${(e as Error).message}`);
    }
  }

  /** The proposal message `eventId`, when the bridge posted it in `room`. */
  private proposalIn(room: string, eventId: string): { cluster: string; id: string } | undefined {
    return room === this.o.alertRoom ? this.proposals?.find(eventId) : undefined;
  }

  /** The prompt `eventId` when it was posted in `room`: a reaction or reply in another room that names it is not a decision. */
  private promptIn(room: string, eventId: string): Prompt | undefined {
    const p = this.prompts.get(eventId);
    return p?.room === room ? p : undefined;
  }

  private sink(room: string, thread: string): RunSink {
    return {
      update: async (op: Operation) => { await this.edit(room, thread, runMessage(op)); },
      waiting: async (op: Operation) => {
        const w = op.progress!.pendingApproval!;
        const id = await this.send(room, waitingMessage(op, 'React 👍 to approve or 👎 to reject, or reply "approve" / "reject <reason>".'), thread);
        this.prompts.set(id, { room, cluster: op.run.cluster!, runId: op.run.runId, step: w.step });
      },
      done: async (op, state) => { await this.send(room, finalMessage(op, state), thread); },
    };
  }

  /** Sends a text message (in `thread` when given); returns its event id. */
  private async send(room: string, body: string, thread?: string): Promise<string> {
    const content = { msgtype: 'm.text', body, ...(thread ? { 'm.relates_to': { rel_type: 'm.thread', event_id: thread, is_falling_back: true, 'm.in_reply_to': { event_id: thread } } } : {}) };
    return (await this.api<{ event_id: string }>('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/${randomUUID()}`, content)).event_id;
  }

  /** Replaces the text of `eventId` (m.replace): the run's message, edited in place. */
  private async edit(room: string, eventId: string, body: string): Promise<void> {
    await this.api('PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/send/m.room.message/${randomUUID()}`, {
      msgtype: 'm.text', body: `* ${body}`, 'm.new_content': { msgtype: 'm.text', body }, 'm.relates_to': { rel_type: 'm.replace', event_id: eventId },
    });
  }

  private async api<T = Record<string, unknown>>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    // A signal of its own per request: undici drops its listener on the signal only at GC, so one
    // shared signal collects a listener per request (MaxListenersExceededWarning, nodejs/undici#5285).
    const r = await fetch(`${this.o.homeserver}${path}`, {
      method, signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(60_000)]),
      headers: { authorization: `Bearer ${this.o.accessToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(`${method} ${path.split('?')[0]}: ${r.status} ${(json as { errcode?: string; error?: string }).errcode ?? ''} ${(json as { error?: string }).error ?? ''}`);
    return json as T;
  }
}
