import type { Server } from 'node:http';
import { App, LogLevel, type BlockAction, type ButtonAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { accessRef, type Access, type AccessRef } from '../config/access';
import type { Actor } from '../domain/identity';
import { ServiceError } from '../service/errors';
import type { Operation } from '../service/operation';
import type { RunService } from '../service/runs';
import { DrillAlerts } from './alerts';
import { acceptable, ProposalPosts, type Posting } from './proposals';
import { CHAT_HELP, parseChatCommand } from './commands';
import { RunFollower, type RunSink } from './follow';
import { readCommand } from './read';
import { ReplayGuard } from './replay';
import { finalMessage, runMessage, waitingMessage } from './text';

/** How the Slack bridge reaches Slack. Secrets come from the environment (chat/main.ts), never from a run. */
export interface SlackOptions {
  service: RunService;
  /** The policy, or an AccessRef read on every request (config/access.ts liveAccess). */
  access: Access | AccessRef;
  /** Signing secret of the Slack app: every request's v0 HMAC-SHA256 signature and timestamp are checked (Bolt). */
  signingSecret: string;
  /** Bot token (xoxb-...) for the Web API. */
  botToken: string;
  /** Socket Mode (on-prem head node without a public URL): the app-level token (xapp-...). Else HTTP mode. */
  appToken?: string;
  /** The Web API's base URL (default Slack's; tests point it at a local stand-in). */
  slackApiUrl?: string;
  /** The slash command (default /etcd). */
  command?: string;
  followIntervalMs?: number;
  /** Channel id where a failed restore drill posts its alert (chat/alerts.ts); none: no alerts. */
  alertChannel?: string;
  /** Milliseconds between reads of failed drills (default 60 000). */
  alertIntervalMs?: number;
  /** Milliseconds between reads of the watches' proposals, posted to `alertChannel` (default 5 000). */
  proposalIntervalMs?: number;
}

/** Who a Slack user is here (access config `slack.users`), or undefined: strangers are refused. */
export function slackActor(access: Access, userId: string): Actor | undefined {
  const u = access.slack?.users[userId];
  return u ? { principal: u.principal, method: 'slack', channel: 'slack', roles: u.roles } : undefined;
}

const READER: Actor = { principal: 'slack-bridge', method: 'slack', channel: 'slack', roles: ['viewer'] };

/**
 * The Slack bridge (@slack/bolt): `/etcd <runbook> <cluster> key=value ...` starts a runbook as the
 * user who typed it (mapped in the access config), the run's message shows the plan and is edited
 * in place as it moves, a waiting step gets Approve / Reject buttons in the thread that act as the
 * user who clicks (four-eyes and roles as everywhere: service/runs.ts), refusals go back to that
 * user only, and the end is posted with the member table. Runs are followed again after a restart.
 * With `alertChannel`, a failed restore drill posts an alert there, and so does each proposal and
 * report of the clusters' watches (chat/proposals.ts), once, updated as its evidence changes and
 * when it resolves; an open proposal has an Accept button that starts its runbook as the user who
 * clicks (service/runs.ts accept), followed in a thread; `/etcd accept <cluster> <id>` does the same.
 */
export function createSlackBridge(o: SlackOptions): { app: App; start(port?: number): Promise<Server | undefined>; stop(): Promise<void> } {
  const app = new App({
    signingSecret: o.signingSecret, token: o.botToken, logLevel: LogLevel.WARN,
    ...(o.appToken ? { socketMode: true, appToken: o.appToken } : {}),
    ...(o.slackApiUrl ? { clientOptions: { slackApiUrl: o.slackApiUrl } } : {}),
  });
  const follower = new RunFollower(o.service, READER, o.followIntervalMs ?? 1000);
  const alerts = o.alertChannel
    ? new DrillAlerts(o.service, READER, async (text) => { await app.client.chat.postMessage({ channel: o.alertChannel!, text }); }, { intervalMs: o.alertIntervalMs ?? 60_000, log: (m) => console.error(`slack: ${m}`) })
    : undefined;
  const proposalBlocks = (x: Posting) => [
    { type: 'section', text: { type: 'mrkdwn', text: x.text } },
    ...(acceptable(x) ? [{ type: 'actions', elements: [{ type: 'button', action_id: 'accept', style: 'primary', text: { type: 'plain_text', text: 'Accept' }, value: JSON.stringify({ cluster: x.cluster, id: x.id }) }] }] : []),
  ];
  const proposals = o.alertChannel
    ? new ProposalPosts(o.service, READER, {
      post: async (x) => (await app.client.chat.postMessage({ channel: o.alertChannel!, text: x.text, blocks: proposalBlocks(x) })).ts!,
      edit: async (ts, x) => { await app.client.chat.update({ channel: o.alertChannel!, ts, text: x.text, blocks: proposalBlocks(x) }); },
      note: async (ts, text) => { await app.client.chat.postMessage({ channel: o.alertChannel!, thread_ts: ts, text }); },
    }, { intervalMs: o.proposalIntervalMs ?? 5_000, howToAccept: 'Accept below to start it as you', log: (m) => console.error(`slack: ${m}`) })
    : undefined;
  const sinkFor = (client: WebClient, room: string, thread: string): RunSink => ({
    update: async (op) => { await client.chat.update({ channel: room, ts: thread, text: runMessage(op) }); },
    waiting: async (op) => {
      const w = op.progress!.pendingApproval!;
      const value = JSON.stringify({ cluster: op.run.cluster, runId: op.run.runId, step: w.step });
      await client.chat.postMessage({
        channel: room, thread_ts: thread, text: waitingMessage(op, 'Approve or Reject below.'),
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: waitingMessage(op, '') } },
          { type: 'actions', elements: [
            { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value },
            { type: 'button', action_id: 'reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value },
          ] },
        ],
      });
    },
    done: async (op, state) => { await client.chat.postMessage({ channel: room, thread_ts: thread, text: `\`\`\`\n${finalMessage(op, state)}\n\`\`\`` }); },
  });
  const resumeSink = (op: Operation) => sinkFor(app.client, op.chat!.room, op.chat!.thread);

  // A signed request replayed within Slack's 5-minute window passes Bolt's signature check: each
  // interaction's trigger_id (unique per slash command or click) is acted on once.
  const replays = new ReplayGuard();
  app.use(async (args) => {
    const trigger = (args.body as { trigger_id?: unknown }).trigger_id;
    if (typeof trigger === 'string' && !replays.first(trigger)) {
      await (args as { ack?: () => Promise<void> }).ack?.();
      console.error(`slack: ignored a replayed request (trigger_id ${trigger.slice(0, 24)})`);
      return;
    }
    await args.next();
  });

  app.command(o.command ?? '/etcd', async ({ command, ack, respond, client }) => {
    await ack();
    const actor = slackActor(accessRef(o.access)(), command.user_id);
    if (!actor) { await respond({ response_type: 'ephemeral', text: `refused: Slack user ${command.user_id} has no roles in etcd-runbooks` }); return; }
    try {
      const cmd = parseChatCommand(command.text);
      if (cmd.verb === 'help') { await respond({ response_type: 'ephemeral', text: CHAT_HELP }); return; }
      if (cmd.verb === 'accept') { await acceptAs(client, actor, command.channel_id, command.user_id, cmd.cluster, cmd.id); return; }
      if (cmd.verb !== 'start') {
        await respond({ response_type: 'ephemeral', text: await readCommand(o.service, actor, cmd.verb, cmd.cluster) });
        return;
      }
      const root = await client.chat.postMessage({ channel: command.channel_id, text: `${cmd.runbook} on ${cmd.cluster}: starting for <@${command.user_id}>` });
      const { operation } = await o.service.start(actor, cmd.runbook, cmd.cluster, cmd.fields, { chat: { kind: 'slack', room: command.channel_id, thread: root.ts! } });
      follower.follow(cmd.cluster, operation.run.runId, sinkFor(client, command.channel_id, root.ts!));
    } catch (e) {
      await respond({ response_type: 'ephemeral', text: `refused: ${(e as Error).message}` });
    }
  });

  /** Accepts proposal `id` as `actor`: the run's message in `channel`, followed in its thread. Throws the service's refusal. */
  const acceptAs = async (client: WebClient, actor: Actor, channel: string, user: string, cluster: string, id: string) => {
    const root = await client.chat.postMessage({ channel, text: `proposal ${id} on ${cluster}: accepted by <@${user}>, starting` });
    const { operation } = await o.service.accept(actor, cluster, id, { chat: { kind: 'slack', room: channel, thread: root.ts! } });
    follower.follow(cluster, operation.run.runId, sinkFor(client, channel, root.ts!));
  };
  app.action<BlockAction<ButtonAction>>('accept', async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id ?? '';
    const { cluster, id } = JSON.parse(action.value ?? '{}') as { cluster: string; id: string };
    const actor = slackActor(accessRef(o.access)(), body.user.id);
    const refuse = (why: string) => client.chat.postEphemeral({ channel, user: body.user.id, text: `refused: ${why}` });
    if (!actor) { await refuse(`Slack user ${body.user.id} has no roles in etcd-runbooks`); return; }
    try {
      await acceptAs(client, actor, channel, body.user.id, cluster, id);
    } catch (e) {
      await refuse(e instanceof ServiceError ? e.message : (e as Error).message);
    }
  });

  const decide = (kind: 'approve' | 'reject') => async ({ ack, body, action, client }: { ack: () => Promise<void>; body: BlockAction; action: ButtonAction; client: WebClient }) => {
    await ack();
    const channel = body.channel?.id ?? '';
    const { cluster, runId, step } = JSON.parse(action.value ?? '{}') as { cluster: string; runId: string; step: string };
    const actor = slackActor(accessRef(o.access)(), body.user.id);
    const refuse = (why: string) => client.chat.postEphemeral({ channel, user: body.user.id, text: `refused: ${why}` });
    if (!actor) { await refuse(`Slack user ${body.user.id} has no roles in etcd-runbooks`); return; }
    try {
      const done = kind === 'approve'
        ? `approved ${step} by ${(await o.service.approve(actor, cluster, step, { runId })).by}`
        : `rejected ${step} by ${(await o.service.reject(actor, cluster, step, `rejected in Slack by ${actor.principal}`, { runId })).by.principal}`;
      if (body.message?.ts) await client.chat.update({ channel, ts: body.message.ts, text: done, blocks: [] });
    } catch (e) {
      await refuse(e instanceof ServiceError ? e.message : (e as Error).message);
    }
  };
  app.action<BlockAction<ButtonAction>>('approve', decide('approve'));
  app.action<BlockAction<ButtonAction>>('reject', decide('reject'));

  return {
    app,
    async start(port?: number) {
      const server = (await app.start(port ?? 3000)) as unknown as Server | undefined;
      const n = await follower.resume('slack', resumeSink).catch((e: Error) => { console.error(`slack: resuming runs: ${e.message}`); return 0; });
      if (n) console.error(`slack: following ${n} running run(s) again`);
      alerts?.start();
      proposals?.start();
      return server;
    },
    async stop() {
      await alerts?.stop();
      await proposals?.stop();
      await follower.stop();
      await app.stop();
    },
  };
}
