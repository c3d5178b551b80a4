import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Etcd3 } from 'etcd3';
import { AccessSchema } from '../../config/access';
import { createSlackBridge } from '../../chat/slack';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { memberClient, memberNames, nonLeader } from '../support/etcd';
import { SlackStandIn, type SlackCall } from '../support/slackStandIn';
import { eventually, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(10 * 60_000);

const SECRET = 'test-signing-secret-0123456789abcdef';

// The real Bolt app in HTTP mode, sent signed requests as Slack sends them; Slack's Web API is a
// local stand-in (the one allowed). Real Temporal dev server, worker and lab behind it.
describe('Slack bridge on the lab (end to end)', () => {
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let slack: SlackStandIn;
  let api: string;
  let bridge: ReturnType<typeof createSlackBridge>;
  let url: string;
  let etcd: Etcd3;
  let service: RunService;
  let inv: ReturnType<typeof freshLabWith>;
  const access = AccessSchema.parse({
    slack: { users: { U0ALICE: { principal: 'alice', roles: ['operator', 'approver'] }, U0BOB: { principal: 'bob', roles: ['approver'] } } },
  });

  const startBridge = async () => {
    bridge = createSlackBridge({ service, access, signingSecret: SECRET, botToken: 'xoxb-test', slackApiUrl: `${api}/api/`, followIntervalMs: 300, alertChannel: 'C0ALERTS', alertIntervalMs: 500 });
    const server = (await bridge.start(0)) as Server;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  };
  /** A request signed as Slack signs it (v0 HMAC-SHA256 of `v0:<timestamp>:<body>`). */
  let sent: { headers: Record<string, string>; body: string } | undefined;
  const send = async (form: Record<string, string>, o: { secret?: string; ageSeconds?: number } = {}) => {
    const body = new URLSearchParams(form).toString();
    const ts = String(Math.floor(Date.now() / 1000) - (o.ageSeconds ?? 0));
    const sig = `v0=${createHmac('sha256', o.secret ?? SECRET).update(`v0:${ts}:${body}`).digest('hex')}`;
    sent = { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sig }, body };
    const r = await fetch(url, { method: 'POST', ...sent });
    return r.status;
  };
  /** The last request again, byte for byte (an attacker who captured it, within the 5-minute window). */
  const replay = async () => (await fetch(url, { method: 'POST', ...sent! })).status;
  let triggers = 0;
  const trigger = () => `${Date.now()}.${++triggers}.t`;
  const slash = (user: string, text: string, o = {}) => send({
    token: 'x', team_id: 'T1', channel_id: 'C0OPS', user_id: user, command: '/etcd', text, response_url: `${api}/respond/${Date.now()}`, trigger_id: trigger(),
  }, o);
  const click = (user: string, prompt: SlackCall, actionId: 'approve' | 'reject') => {
    const button = prompt.args.blocks[1].elements.find((e: { action_id: string }) => e.action_id === actionId);
    return send({ payload: JSON.stringify({
      type: 'block_actions', user: { id: user }, team: { id: 'T1' }, channel: { id: 'C0OPS' }, container: { type: 'message', message_ts: '1', channel_id: 'C0OPS' },
      message: { ts: `prompt-${Date.now()}`, text: '' }, response_url: `${api}/respond/b`, trigger_id: trigger(), api_app_id: 'A1', token: 'x',
      actions: [{ type: 'button', action_id: actionId, block_id: 'b', value: button.value, action_ts: '1' }],
    }) });
  };
  const prompt = (step: string, after = 0) => eventually(`prompt for ${step}`, async () =>
    slack.of('chat.postMessage').slice(after).reverse().find((c) => c.args.blocks && JSON.parse(c.args.blocks[1].elements[0].value).step === step), 120_000);

  beforeAll(async () => {
    inv = freshLabWith(3, 3);
    etcd = memberClient(inv, 'node1');
    env = await startWorkerAndClient([INVENTORY]);
    service = new RunService(env.client, env.taskQueue, new InventoryFiles([INVENTORY]), access, (c) => `etcd-runbooks-${c}-${env.taskQueue}`);
    slack = new SlackStandIn();
    api = await slack.start();
    await startBridge();
  });
  afterAll(async () => {
    etcd?.close();
    await bridge?.stop();
    await slack?.stop();
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('unsigned, wrongly signed and stale requests are refused (401) and start nothing', async () => {
    expect(await slash('U0ALICE', 'remove-member lab node=node3', { secret: 'wrong' })).toBe(401);
    expect(await slash('U0ALICE', 'remove-member lab node=node3', { ageSeconds: 600 })).toBe(401);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'command=/etcd&text=help' });
    expect(unsigned.status).toBe(401);
    expect(slack.of('chat.postMessage')).toHaveLength(0);
  });

  test('a validly signed request replayed within the 5-minute window is acted on once', async () => {
    expect(await slash('U0ALICE', 'runs lab')).toBe(200);
    await eventually('first answer', async () => slack.of('response_url').find((c) => c.args.response_type === 'ephemeral'));
    const answers = () => slack.of('response_url').length;
    const before = answers();
    expect(await replay()).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(answers()).toBe(before);
  });

  test('a stranger is refused; alice starts remove-member; her own click and a stranger\'s are refused; bob approves across a bridge restart; the member table is posted', async () => {
    expect(await slash('U0EVE', 'remove-member lab node=node3')).toBe(200);
    await eventually('stranger refused', async () => slack.of('response_url').find((c) => /U0EVE has no roles/.test(c.args.text)));

    // remove-member refuses the leader: node2 or node3, whichever does not lead.
    const victim = await nonLeader(inv, ['node2', 'node3']);
    expect(await slash('U0ALICE', `remove-member lab node=${victim} approvalTimeoutSeconds=600`)).toBe(200);
    const root = await eventually('run message', async () => slack.of('chat.postMessage').find((c) => /remove-member on lab: starting for <@U0ALICE>/.test(c.args.text)));
    const first = await prompt(`remove:${victim}`);
    expect(first.args.thread_ts).toBeDefined();
    await eventually('plan in the run message', async () => slack.of('chat.update').find((c) => /removeMember on lab requested by alice \(slack\)/.test(c.args.text) && /move leadership|remove/.test(c.args.text)));

    expect(await click('U0ALICE', first, 'approve')).toBe(200);
    await eventually('four-eyes refusal to alice only', async () => slack.of('chat.postEphemeral').find((c) => c.args.user === 'U0ALICE' && /four-eyes: alice requested this run/.test(c.args.text)));
    expect(await click('U0EVE', first, 'approve')).toBe(200);
    await eventually('stranger refused', async () => slack.of('chat.postEphemeral').find((c) => c.args.user === 'U0EVE'));

    // The bridge restarts while the run waits: the new one follows the run again from its memo.
    await bridge.stop();
    const seen = slack.of('chat.postMessage').length;
    await startBridge();
    const again = await prompt(`remove:${victim}`, seen);
    expect(await click('U0BOB', again, 'approve')).toBe(200);
    await eventually('approval shown in place', async () => slack.of('chat.update').find((c) => c.args.text === `approved remove:${victim} by bob`));
    expect(await click('U0BOB', await prompt(`move-aside:${victim}`), 'approve')).toBe(200);
    const final = await eventually('final message', async () => slack.of('chat.postMessage').find((c) => c.args.thread_ts === first.args.thread_ts && /removeMember completed/.test(c.args.text)), 120_000);
    expect(final.args.text).toMatch(/members now:/);
    expect(final.args.text).toMatch(/node1/);
    expect(final.args.text).not.toMatch(new RegExp(`${victim} `));
    expect(root.args.channel).toBe('C0OPS');
    expect(await memberNames(etcd)).toEqual(['node1', 'node2', 'node3'].filter((n) => n !== victim));
  });

  test('a restore drill that fails posts an alert in the alerts channel', async () => {
    expect(await slash('U0ALICE', 'drill lab')).toBe(200); // this lab has no backup host: the drill cannot pass
    const alert = await eventually('alert', async () => slack.of('chat.postMessage').find((c) => c.args.channel === 'C0ALERTS'), 60_000);
    expect(alert.args.text).toMatch(/^ALERT: restore drill of lab FAILED at .*no backupHost in the inventory/);
  });
});
