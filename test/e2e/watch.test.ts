import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { Authenticator, tokenHash } from '../../api/auth';
import { buildApi } from '../../api/server';
import { InventoryRegistry } from '../../activities/registry';
import { MatrixBridge } from '../../chat/matrix';
import { AccessSchema } from '../../config/access';
import { watchId } from '../../service/ids';
import { InventoryFiles } from '../../service/inventories';
import { RunService, type ProposalsView } from '../../service/runs';
import { keepWatches } from '../../worker/watches';
import { writeBulk } from '../support/cluster';
import { memberClient, memberNames } from '../support/etcd';
import { freshLabWith, INVENTORY, lab, labClientCredentials } from '../support/lab';
import { TOKENS } from '../api/fixtures';
import { MatrixUser, Synapse } from '../support/synapse';
import { eventually, startWorkerAndClient } from '../support/temporal';

jest.setTimeout(20 * 60_000);

// Issue "watch every cluster": the worker keeps a watch per cluster (probe every 15 s, the
// default); what it proposes and reports is read as a person reads it, through the CLI. Each
// fault is put in place on the lab and judged from what `proposals` says, with the time from
// fault to proposal (the detection latency) printed. Proposals are posted to a Matrix room (real
// Synapse) and accepted there by one person and approved by another.
describe('watch (end to end)', () => {
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let inv: ReturnType<typeof freshLabWith>;
  let synapse: Synapse;
  let bridge: MatrixBridge;
  let bot: { userId: string; token: string };
  let alice: MatrixUser; let bob: MatrixUser;
  let room: string;
  let service: RunService;
  let api: FastifyInstance;
  let apiBase: string;
  let all: Etcd3;
  /** The bot's newest message in the room matching `re` (edits included), once it is there. */
  const botSaid = (re: RegExp, timeoutMs = 180_000) => eventually(`bot: ${re}`, async () =>
    (await alice.messages(room, 200)).filter((e) => e.sender === bot.userId && e.type === 'm.room.message').reverse().find((e) => re.test(e.content.body ?? '')), timeoutMs);
  let stopWatches: () => Promise<void> = async () => undefined;
  const latencies: { fault: string; seconds: number }[] = [];
  const proposals = () => new Promise<ProposalsView>((resolve, reject) => {
    execFile(join(__dirname, '..', '..', 'bin', 'etcd-runbooks'), ['proposals', '-i', INVENTORY, '--json'], { encoding: 'utf8', env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: env.taskQueue } },
      (e, stdout, stderr) => { try { resolve(JSON.parse(stdout) as ProposalsView); } catch { reject(new Error(`proposals: ${e?.message ?? ''} ${stderr}`)); } });
  });
  const open = (v: ProposalsView) => [...v.proposals, ...v.reports].filter((x) => x.status === 'open');
  /** Waits until `proposals` shows an open entry with `key`; records the time from `since` (the fault) to it. */
  const waitOpen = async (fault: string, key: string, since: number, timeoutMs = 180_000) => {
    const found = await eventually(`${key} open`, async () => open(await proposals()).find((x) => x.key === key), timeoutMs);
    latencies.push({ fault, seconds: (Date.now() - since) / 1000 });
    return found;
  };

  beforeAll(async () => {
    // A 24 MiB backend quota: the NOSPACE scenario fills it in seconds.
    inv = freshLabWith(4, 3, { quotaBytes: 24 * 1024 * 1024 });
    all = new Etcd3({ hosts: inv.nodes.slice(0, 3).map((n) => n.etcd.clientURL), credentials: labClientCredentials(), dialTimeout: 3000 });
    env = await startWorkerAndClient([INVENTORY]);
    synapse = new Synapse();
    await synapse.start();
    bot = await synapse.user('etcdbot');
    const [a, b] = [await synapse.user('alice'), await synapse.user('bob')];
    [alice, bob] = [new MatrixUser(synapse.url, a.userId, a.token), new MatrixUser(synapse.url, b.userId, b.token)];
    const access = AccessSchema.parse({
      matrix: { users: { [a.userId]: { principal: 'alice', roles: ['operator'] }, [b.userId]: { principal: 'bob', roles: ['approver'] } } },
      tokens: [{ name: 'mallory', sha256: tokenHash(TOKENS.mallory), roles: ['operator'] }, { name: 'vic', sha256: tokenHash(TOKENS.viewer), roles: ['viewer'] }],
    });
    room = (await alice.call('POST', '/_matrix/client/v3/createRoom', { name: 'etcd-alerts', invite: [bot.userId, bob.userId] })).room_id;
    await bob.call('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/join`, {});
    service = new RunService(env.client, env.taskQueue, new InventoryFiles([INVENTORY]), access, (c) => `etcd-runbooks-${c}-${env.taskQueue}`);
    bridge = new MatrixBridge({ service, access, homeserver: synapse.url, accessToken: bot.token, userId: bot.userId, followIntervalMs: 500, alertRoom: room, proposalIntervalMs: 2000, log: (m) => console.log(`matrix bridge: ${m}`) });
    await bridge.start();
    api = await buildApi({ service, auth: new Authenticator(access) });
    await api.listen({ host: '127.0.0.1', port: 0 });
    apiBase = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    await eventually('bot joined', async () => ((await alice.call('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/joined_members`)).joined?.[bot.userId] ? true : undefined));
    // A watch left by an earlier run of this file (on a task queue no worker polls any more) would be "the existing one".
    await env.client.workflow.getHandle(watchId('lab')).terminate('a new test run').catch(() => undefined);
    stopWatches = keepWatches(env.client, env.taskQueue, new InventoryRegistry([INVENTORY]), () => undefined);
  });
  afterAll(async () => {
    all?.close();
    await api?.close();
    await bridge?.stop();
    await synapse?.stop();
    await stopWatches();
    await env?.client.workflow.getHandle(watchId('lab')).terminate('test done').catch(() => undefined);
    await env?.stop();
    console.log(`detection latency, fault to proposal or report (thresholds 60 s, probe every 15 s): ${latencies.map((l) => `${l.fault} ${l.seconds.toFixed(1)} s`).join('; ')}`);
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  /** The value of one series of /metrics as Prometheus scrapes it (a viewer token), or undefined. */
  const scrape = async () => {
    const r = await fetch(`${apiBase}/metrics`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(r.status).toBe(200);
    const text = await r.text();
    return (series: string) => { const l = text.split('\n').find((x) => x.startsWith(`${series} `)); return l === undefined ? undefined : Number(l.slice(series.length + 1)); };
  };

  test('a healthy cluster: the watch probes and proposes nothing; /metrics shows what etcd says', async () => {
    const v = await eventually('three probes', async () => { const x = await proposals(); return x.watching && (x.probes ?? 0) >= 3 ? x : undefined; }, 120_000);
    expect(v).toMatchObject({ watching: true, cluster: 'lab', intervalSeconds: 15, failedProbes: 0, proposals: [], reports: [] });
    // Judged against etcd itself: its leader, and each member's backend quota (24 MiB) and database size.
    const status = await all.maintenance.status();
    const leaderName = (await all.cluster.memberList({})).members.find((m) => m.ID === status.leader)?.name;
    const leaderNode = inv.nodes.find((n) => n.etcd.memberName === leaderName)?.name;
    expect(leaderNode).toBeDefined();
    const metric = await scrape();
    expect(['cluster_read_ok', 'watch_up', 'cluster_voters', 'cluster_voters_serving', 'cluster_has_leader'].map((n) => metric(`etcd_runbooks_${n}{cluster="lab"}`))).toEqual([1, 1, 3, 3, 1]);
    for (const n of ['node1', 'node2', 'node3']) {
      const l = `{cluster="lab",node="${n}"}`;
      expect([metric(`etcd_runbooks_member_etcd_serving${l}`), metric(`etcd_runbooks_member_ssh_up${l}`), metric(`etcd_runbooks_member_db_quota_bytes${l}`), metric(`etcd_runbooks_member_is_leader${l}`)])
        .toEqual([1, 1, 24 * 1024 * 1024, n === leaderNode ? 1 : 0]);
      expect(metric(`etcd_runbooks_member_db_size_bytes${l}`)).toBeGreaterThan(0);
      // Read over SSH from the node (the lab's certificates are for 10 years).
      for (const role of ['ca', 'server', 'peer', 'client']) expect(metric(`etcd_runbooks_member_certificate_days_left{cluster="lab",node="${n}",role="${role}"}`)).toBeGreaterThan(300);
      expect(metric(`etcd_runbooks_member_data_dir_free_bytes${l}`)).toBeGreaterThan(64 * 1024 * 1024);
    }
  });

  test('SSH-only loss of node2: reported, nothing proposed', async () => {
    const t0 = Date.now();
    lab('block', 'node2', 'ssh');
    try {
      const r = await waitOpen('ssh-only', 'ssh-only:node2', t0);
      expect(r.evidence).toBe('node2: SSH fails, its etcd serves: nothing to do to the cluster; the node needs a look');
      expect((await proposals()).proposals.filter((p) => p.status === 'open')).toEqual([]);
    } finally {
      lab('unblock', 'node2');
    }
    await eventually('the report closes', async () => (open(await proposals()).length === 0 ? true : undefined), 60_000);
  });

  test('quorum lost: recover-quorum, naming the most advanced survivor', async () => {
    const t0 = Date.now();
    lab('crash', 'node2');
    lab('crash', 'node3');
    try {
      const p = await waitOpen('quorum loss', 'quorum-lost', t0);
      expect(p).toMatchObject({ runbook: 'recover-quorum', fields: { members: ['node1', 'node2', 'node3'] } });
      expect(p.evidence).toMatch(/^quorum lost: 1 of 3 voters answer \(node1\), 2 needed; most advanced survivor node1 \(raft index \d+\)$/);
      // A member silent while there is no quorum is part of the quorum loss, not a replace of its own.
      expect(open(await proposals()).map((x) => x.key)).toEqual(['quorum-lost']);
    } finally {
      lab('start', 'node2');
      lab('start', 'node3');
    }
    await eventually('resolved', async () => (open(await proposals()).length === 0 ? true : undefined), 120_000);
  });

  test('NOSPACE: defrag proposed at once; mallory accepts it through the HTTP API (a viewer may not); the alarm is disarmed and the proposal resolves', async () => {
    const post = async (token: string, path: string) => {
      const r = await fetch(`${apiBase}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' });
      return { status: r.status, body: await r.json() as Record<string, any> };
    };
    const t0 = Date.now();
    // The refused writes go through a client of their own (etcd3's circuit breaker would refuse the reads after).
    const filler = new Etcd3({ hosts: inv.nodes.slice(0, 3).map((n) => n.etcd.clientURL), credentials: labClientCredentials(), dialTimeout: 3000 });
    try {
      await writeBulk(filler, '/fill/', 40).catch((e: Error) => expect(e.message).toMatch(/database space exceeded/));
    } finally { filler.close(); }
    await all.delete().prefix('/fill/').exec();
    await all.kv.compact({ revision: (await all.get('x').exec()).header.revision, physical: true });
    await waitOpen('NOSPACE', 'nospace', t0);
    const p = (await proposals()).proposals.find((x) => x.key === 'nospace' && x.status === 'open')!;
    expect(p).toMatchObject({ runbook: 'defrag', fields: {} });
    expect(p.evidence).toMatch(/^NOSPACE alarm raised by node\d(, node\d)*: the cluster refuses writes$/);
    const path = `/v1/clusters/lab/proposals/${encodeURIComponent(p.id)}/accept`;
    expect(await post(TOKENS.viewer, path)).toMatchObject({ status: 403, body: { error: { kind: 'forbidden' } } });
    const accepted = await post(TOKENS.mallory, path);
    expect(accepted).toMatchObject({ status: 202, body: { run: { workflow: 'defragCluster', requester: 'mallory' } } });
    const done = await eventually('defrag done', async () => { const op = await service.get({ principal: 'vic', method: 'token', channel: 'api', roles: ['viewer'] }, 'lab', accepted.body.run.runId); return op.done ? op : undefined; }, 300_000);
    expect(done.run.state).toBe('completed');
    expect(done.response).toMatchObject({ disarmed: true });
    expect((await all.maintenance.alarm({ action: 'Get', alarm: 'None', memberID: 0 })).alarms).toEqual([]);
    await all.put('/after-defrag').value('ok').exec();
    const v = await eventually('resolved', async () => { const x = await proposals(); return x.proposals.find((q) => q.id === p.id && q.status === 'resolved') ? x : undefined; }, 120_000);
    expect(open(v)).toEqual([]);
  });

  test('a crashed member: replace on the spare node, posted in Matrix; alice accepts, bob approves; 3 healthy voters and the proposal resolves', async () => {
    const t0 = Date.now();
    lab('crash', 'node3');
    await waitOpen('crash', 'member-silent:node3', t0);
    const p = (await proposals()).proposals.find((x) => x.key === 'member-silent:node3' && x.status === 'open')!;
    expect(p).toMatchObject({ runbook: 'replace', fields: { failed: 'node3', replacement: 'node4' } });
    expect(p).toHaveProperty('evidence', 'node3 silent (etcd does not answer; SSH fails too), 2 of 3 voters serving');
    expect(open(await proposals()).map((x) => x.key)).toEqual(['member-silent:node3']);
    const metric = await scrape();
    expect([metric('etcd_runbooks_cluster_voters_serving{cluster="lab"}'), metric('etcd_runbooks_member_etcd_serving{cluster="lab",node="node3"}'), metric('etcd_runbooks_proposals_open{cluster="lab",runbook="replace"}')]).toEqual([2, 0, 1]);
    const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const posted = await botSaid(new RegExp(`^PROPOSAL ${esc(p.id)} on lab`));
    expect(posted.content.body).toContain('Proposed: replace lab failed=node3 replacement=node4');
    await alice.say(room, 'accept', posted.event_id);
    await botSaid(/replaceMember on lab requested by alice \(matrix\)/);
    // The watch sees the run from Temporal: new proposals are held while it goes on.
    await eventually('the watch sees the run', async () => ((await proposals()) as { last?: { running?: { workflow: string } } }).last?.running?.workflow === 'replaceMember' || undefined, 60_000);
    // bob approves each step the run waits on, as himself (alice may not: four-eyes).
    const approved = new Set<string>();
    await eventually('replace completed', async () => {
      const events = (await bob.messages(room, 300)).filter((e) => e.sender === bot.userId && e.type === 'm.room.message');
      if (events.some((e) => /replaceMember (completed|failed)/.test(e.content.body ?? ''))) return true;
      for (const e of events) {
        const step = /waiting for approval of (\S+)/.exec(e.content.body ?? '')?.[1];
        if (step && !approved.has(e.event_id) && !e.content['m.new_content']) { approved.add(e.event_id); await bob.react(room, e.event_id, '👍'); }
      }
      return undefined;
    }, 600_000);
    await botSaid(/replaceMember completed/, 5_000);
    expect(approved.size).toBeGreaterThan(0);
    // Judged from etcd: node1, node2 and node4 are the voters and each serves.
    for (const n of ['node1', 'node2', 'node4']) {
      const c = memberClient(inv, n);
      try {
        expect(await memberNames(c)).toEqual(['node1', 'node2', 'node4']);
        expect(Number((await c.maintenance.status()).header?.revision)).toBeGreaterThan(0);
      } finally { c.close(); }
    }
    const v = await eventually('resolved', async () => { const x = await proposals(); return x.proposals.find((q) => q.id === p.id && q.status === 'resolved') ? x : undefined; }, 120_000);
    expect(open(v)).toEqual([]);
    // Through the service the bridge uses (its runs have workflow ids of this test's own).
    const viewer = { principal: 'carol', method: 'oidc' as const, channel: 'api' as const, roles: ['viewer' as const] };
    expect((await service.proposals(viewer, 'lab')).proposals.find((q) => q.id === p.id)?.accepted).toMatchObject({ by: 'alice', workflow: 'replaceMember', state: 'completed' });
    await botSaid(new RegExp(`^resolved: ${esc(p.id)} on lab: the condition cleared`), 60_000);
  });
});
