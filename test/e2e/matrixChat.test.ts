import type { Etcd3 } from 'etcd3';
import { AccessSchema } from '../../config/access';
import { MatrixBridge } from '../../chat/matrix';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { memberClient, memberNames, nonLeader } from '../support/etcd';
import { MatrixUser, Synapse } from '../support/synapse';
import { eventually, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(15 * 60_000);

// A real homeserver (Synapse from PyPI, SQLite, loopback, no federation), real users talking to the
// bridge by message and reaction, the real Temporal dev server, a worker and the lab.
describe('Matrix bridge on the lab (end to end)', () => {
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let synapse: Synapse;
  let bridge: MatrixBridge;
  let service: RunService;
  let bot: { userId: string; token: string };
  let alice: MatrixUser; let bob: MatrixUser; let eve: MatrixUser;
  let room: string;
  let strangerRoom: string;
  let alertRoom: string;
  let etcd: Etcd3;
  let access: ReturnType<typeof AccessSchema.parse>;
  let inv: ReturnType<typeof freshLabWith>;

  const startBridge = async () => {
    bridge = new MatrixBridge({ service, access, homeserver: synapse.url, accessToken: bot.token, userId: bot.userId, followIntervalMs: 300, alertRoom, alertIntervalMs: 500, log: () => undefined });
    await bridge.start();
  };
  const botSaid = (re: RegExp, after = 0, inRoom = room) => eventually(`bot: ${re}`, async () =>
    (await alice.messages(inRoom, 200)).slice(after).filter((e) => e.sender === bot.userId && e.type === 'm.room.message').find((e) => re.test(e.content.body)), 180_000);
  const count = async () => (await alice.messages(room, 200)).length;

  beforeAll(async () => {
    inv = freshLabWith(3, 1);
    etcd = memberClient(inv, 'node1');
    env = await startWorkerAndClient([INVENTORY]);
    synapse = new Synapse();
    await synapse.start();
    bot = await synapse.user('etcdbot');
    const [a, b, e] = [await synapse.user('alice'), await synapse.user('bob'), await synapse.user('eve')];
    [alice, bob, eve] = [new MatrixUser(synapse.url, a.userId, a.token), new MatrixUser(synapse.url, b.userId, b.token), new MatrixUser(synapse.url, e.userId, e.token)];
    access = AccessSchema.parse({ matrix: { users: { [a.userId]: { principal: 'alice', roles: ['operator', 'approver'] }, [b.userId]: { principal: 'bob', roles: ['approver'] } } } });
    service = new RunService(env.client, env.taskQueue, new InventoryFiles([INVENTORY]), access, (c) => `etcd-runbooks-${c}-${env.taskQueue}`);
    room = (await alice.call('POST', '/_matrix/client/v3/createRoom', { name: 'etcd-ops', invite: [bot.userId, bob.userId, eve.userId] })).room_id;
    for (const u of [bob, eve]) await u.call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/join`, {});
    alertRoom = (await alice.call('POST', '/_matrix/client/v3/createRoom', { name: 'etcd-alerts', invite: [bot.userId, bob.userId] })).room_id;
    await bob.call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(alertRoom)}/join`, {});
    // A stranger's room: the bot must not join it.
    strangerRoom = (await eve.call('POST', '/_matrix/client/v3/createRoom', { name: 'eve-room', invite: [bot.userId] })).room_id;
    await startBridge();
    await eventually('bot joined', async () => ((await alice.call('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[bot.userId] ? true : undefined));
  });

  test('the bot joins rooms of users it knows, and declines a stranger\'s invite', async () => {
    const membership = async (r: string) => (await eve.call('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(r)}/state/m.room.member/${encodeURIComponent(bot.userId)}`)).membership;
    expect(await eventually('invite declined', async () => ((await membership(strangerRoom)) === 'leave' ? 'leave' : undefined))).toBe('leave');
  });
  afterAll(async () => {
    etcd?.close();
    await bridge?.stop();
    await synapse?.stop();
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('a stranger is refused; alice expands 1 -> 3 by message; the bridge is killed mid-run and restarted; the run completes and the member table is posted', async () => {
    await eve.say(room, '!etcd expand lab add=node2,node3');
    await botSaid(/refused: @eve:localhost has no roles/);
    const before = await count();
    await alice.say(room, '!etcd expand lab add=node2,node3');
    await botSaid(/expandCluster on lab requested by alice \(matrix\)/, before);
    await bridge.stop(); // killed mid-run; the run goes on in Temporal
    await startBridge();
    const final = await botSaid(/expandCluster completed/, before);
    expect(final.content.body).toMatch(/members now:/);
    expect(final.content['m.relates_to']?.rel_type).toBe('m.thread');
    expect(await memberNames(etcd)).toEqual(['node1', 'node2', 'node3']);
  });

  test('alice asks to remove a member; her own 👍 and a stranger\'s are refused; bob approves by reaction and by reply; it completes', async () => {
    const victim = await nonLeader(inv, ['node2', 'node3']); // remove-member refuses the leader
    const before = await count();
    await alice.say(room, `!etcd remove-member lab node=${victim}`);
    const prompt = await botSaid(new RegExp(`waiting for approval of remove:${victim}`), before);
    await alice.react(room, prompt.event_id, '👍');
    await botSaid(/refused for @alice:localhost: four-eyes: alice requested this run/, before);
    await eve.react(room, prompt.event_id, '👍');
    await botSaid(/refused: @eve:localhost has no roles/, before);
    // bob's 👍 naming the prompt from another room is not a decision on it.
    const approvals = () => alice.messages(room, 200).then((m) => m.filter((e: { content?: { body?: string } }) => /approved remove:/.test(e.content?.body ?? '')).length);
    await bob.react(alertRoom, prompt.event_id, '👍').catch(() => undefined); // a homeserver may refuse it: also no decision
    await new Promise((r) => setTimeout(r, 3000));
    expect(await approvals()).toBe(0);
    await bob.react(room, prompt.event_id, '👍');
    await botSaid(new RegExp(`approved remove:${victim} by bob`), before);
    const second = await botSaid(new RegExp(`waiting for approval of move-aside:${victim}`), before);
    await bob.say(room, 'approve', second.event_id);
    await botSaid(new RegExp(`approved move-aside:${victim} by bob`), before);
    await botSaid(/removeMember completed/, before);
    expect(await memberNames(etcd)).toEqual(['node1', 'node2', 'node3'].filter((n) => n !== victim));
  });

  test('a restore drill that fails posts an alert in the alerts room, and `status` shows it', async () => {
    const before = await count();
    await alice.say(room, '!etcd drill lab'); // this lab has no backup host: the drill cannot pass
    await botSaid(/drillRestore failed/, before);
    const alert = await botSaid(/^ALERT: restore drill of lab FAILED at .*no backupHost in the inventory/, 0, alertRoom);
    expect(alert.content.body).toContain('status lab');
    const beforeStatus = await count();
    await alice.say(room, '!etcd status lab');
    await botSaid(/ALERT: the newest restore drill FAILED at .*no backupHost/, beforeStatus);
  });
});
