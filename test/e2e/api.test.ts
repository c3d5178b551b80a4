import type { AddressInfo } from 'node:net';
import type { Etcd3 } from 'etcd3';
import type { FastifyInstance } from 'fastify';
import { Authenticator } from '../../api/auth';
import { buildApi } from '../../api/server';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { testAccess, testIdp, TOKENS } from '../api/fixtures';
import { freshLabWith, INVENTORY, lab } from '../support/lab';
import { memberClient, memberNames, nonLeader } from '../support/etcd';
import type { Inventory } from '../../inventory/schema';
import { eventually, startWorkerAndClient } from '../support/temporal';
import { clusterFingerprint } from '../support/fingerprint';
import { parseChatCommand } from '../../chat/commands';
import { runMessage } from '../../chat/text';

jest.setTimeout(10 * 60_000);

// The HTTP API over a real socket, in front of the real Temporal dev server, a worker and the lab:
// runs started by one identity and approved (or refused) by others.
describe('HTTP API on the lab (end to end)', () => {
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let app: FastifyInstance;
  let base: string;
  let etcd: Etcd3;
  let idp: Awaited<ReturnType<typeof testIdp>>;
  let inv: Inventory;
  let service: RunService;
  /** The members after the first test; remove-member refuses the leader, so each test removes a follower. */
  let members = ['node1', 'node2', 'node3'];
  const follower = () => nonLeader(inv, members);
  const call = async (token: string, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(`${base}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: r.status, body: await r.json() as Record<string, any> };
  };
  const waitingStep = (runId: string, step: string) => eventually(`${step} waiting`, async () => {
    const op = await call(TOKENS.viewer, 'GET', `/v1/clusters/lab/runs/${runId}`);
    return op.body.progress?.pendingApproval?.step === step ? op.body : undefined;
  }, 120_000);

  beforeAll(async () => {
    inv = freshLabWith(3, 3);
    etcd = memberClient(inv, 'node1');
    env = await startWorkerAndClient([INVENTORY]);
    idp = await testIdp();
    const access = testAccess();
    service = new RunService(env.client, env.taskQueue, new InventoryFiles([INVENTORY]), access, (c) => `etcd-runbooks-${c}-${env.taskQueue}`);
    app = await buildApi({ service, auth: new Authenticator(access, idp.jwks), eventIntervalSeconds: 0.5 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    etcd?.close();
    await app?.close();
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('a dry run through the API (dryRun=true) and chat\'s words (plan ...) shows the plan with its projection and changes nothing', async () => {
    const victim = await nonLeader(inv, ['node2', 'node3']);
    const before = await clusterFingerprint(etcd, members);
    const started = await call(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/remove-member?dryRun=true', { node: victim });
    expect(started.status).toBe(202);
    const done = await eventually('the dry run ended', async () => {
      const op = await call(TOKENS.viewer, 'GET', `/v1/clusters/lab/runs/${started.body.run.runId}`);
      return op.body.done ? op.body : undefined;
    }, 120_000);
    expect(done.run.state).toBe('completed');
    expect(done.progress.message).toMatch(/^dry run: pre-flight passed; .*nothing was changed/);
    expect(done.progress.steps.find((s: { id: string }) => s.id === `remove:${victim}`).projection).toEqual({ voters: 2, serving: 2, quorum: 2, tolerance: 0, onCancel: 'ends: nothing was changed' });
    expect(done.response).toMatchObject({ dryRun: true });
    // Chat's words reach the service as the same start (chat/commands.ts), here as a Matrix user.
    const cmd = parseChatCommand(`plan remove-member lab node=${victim}`);
    if (cmd.verb !== 'start') throw new Error('not a start');
    const { operation } = await service.start({ principal: 'carol', method: 'matrix', channel: 'matrix', roles: ['operator'] }, cmd.runbook, cmd.cluster, cmd.fields);
    const chatDone = await eventually('the chat dry run ended', async () => { const op = await service.get({ principal: 'viewer', method: 'token', channel: 'api', roles: ['viewer'] }, 'lab', operation.run.runId); return op.done ? op : undefined; }, 120_000);
    expect(chatDone.run.state).toBe('completed');
    expect(runMessage(chatDone)).toMatch(new RegExp(`${victim}: remove the member \\(member remove\\) — then 2 voters, 2 serving, quorum 2, tolerates no failure; a cancel here ends: nothing was changed`));
    expect(await clusterFingerprint(etcd, members)).toEqual(before);
  });

  test('alice starts remove-member; her own approval is refused (four-eyes), an operator-only one too; bob (OIDC) approves and it completes', async () => {
    // node2 or node3 (one of the two is not the leader), so node1's client keeps answering.
    const victim = await nonLeader(inv, ['node2', 'node3']);
    const rest = members.filter((n) => n !== victim);
    const started = await call(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/remove-member', { node: victim, approvalTimeoutSeconds: 600 }, { 'idempotency-key': 'rm-1' });
    expect(started.status).toBe(202);
    const runId = started.body.run.runId as string;
    expect(started.body.requester).toEqual({ principal: 'alice', method: 'token', channel: 'api' });
    // The same request again (a client retrying) is the same run, not a second one.
    const again = await call(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/remove-member', { node: victim, approvalTimeoutSeconds: 600 }, { 'idempotency-key': 'rm-1' });
    expect([again.status, again.body.run.runId]).toEqual([200, runId]);
    // Another run on the same cluster meanwhile is a conflict.
    expect((await call(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/move-leader', { to: rest[0] })).status).toBe(409);

    await waitingStep(runId, `remove:${victim}`);
    const runs = await eventually('runs lists the waiting step', async () => {
      const r = await call(TOKENS.viewer, 'GET', '/v1/clusters/lab/runs');
      const mine = (r.body as unknown as Array<Record<string, string>>).find((x) => x.runId === runId);
      return mine?.waitingStep === `remove:${victim}` ? mine : undefined;
    });
    expect(runs).toMatchObject({ workflow: 'removeMember', state: 'running', requester: 'alice', cluster: 'lab' });

    const self = await call(TOKENS.alice, 'POST', `/v1/clusters/lab/runs/${runId}/approve`, { step: `remove:${victim}` });
    expect(self.status).toBe(403);
    expect(self.body.error.message).toMatch(/four-eyes: alice requested this run/);
    expect((await call(TOKENS.mallory, 'POST', `/v1/clusters/lab/runs/${runId}/approve`, { step: `remove:${victim}` })).status).toBe(403);
    expect((await call(TOKENS.bob, 'POST', `/v1/clusters/lab/runs/${runId}/approve`, { step: `stop:${victim}` })).status).toBe(409);

    const carol = await idp.sign({ preferred_username: 'carol', roles: ['approver'] });
    const approved = await call(carol, 'POST', `/v1/clusters/lab/runs/${runId}/approve`, { step: `remove:${victim}` }, { 'idempotency-key': 'ok-1' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ step: `remove:${victim}`, by: 'carol', identity: { principal: 'carol', method: 'oidc', channel: 'api' } });
    await waitingStep(runId, `move-aside:${victim}`);
    expect((await call(TOKENS.bob, 'POST', `/v1/clusters/lab/runs/${runId}/approve`, { step: `move-aside:${victim}` })).status).toBe(200);

    // Progress as server-sent events until the operation is done.
    const events = await fetch(`${base}/v1/clusters/lab/runs/${runId}/events`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    expect(events.headers.get('content-type')).toMatch(/text\/event-stream/);
    const ops = (await events.text()).split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
    const last = ops[ops.length - 1];
    expect(last.done).toBe(true);
    expect(last.run.state).toBe('completed');
    expect(last.progress.approvals.map((a: { step: string; by: string }) => `${a.step} by ${a.by}`)).toEqual([`remove:${victim} by carol`, `move-aside:${victim} by bob`]);
    expect(await memberNames(etcd)).toEqual(rest);
    members = rest;
  });

  test('from 2 voting members to 1 remove-member is refused at pre-flight, naming the restore, unless allowTwoToOne', async () => {
    const victim = await follower();
    const started = await call(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/remove-member?dryRun=true', { node: victim });
    const done = await eventually('the dry run ended', async () => {
      const op = await call(TOKENS.viewer, 'GET', `/v1/clusters/lab/runs/${started.body.run.runId}`);
      return op.body.done ? op.body : undefined;
    }, 120_000);
    expect(done.run.state).toBe('failed');
    expect(done.progress.message).toMatch(/^pre-flight refused: removing member \S+ would take the cluster from 2 voting members to 1.*restore it on the other node.*--allow-two-to-one/);
    expect(await memberNames(etcd)).toEqual(members);
  });

  test('a rejected step stops the run at its safe point with who and why; nothing was removed', async () => {
    const victim = await follower();
    const started = await call(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/remove-member', { node: victim, allowTwoToOne: true });
    expect(started.status).toBe(202);
    const runId = started.body.run.runId as string;
    await waitingStep(runId, `remove:${victim}`);
    const rejected = await call(TOKENS.bob, 'POST', `/v1/clusters/lab/runs/${runId}/reject`, { step: `remove:${victim}`, reason: 'change window closed' });
    expect(rejected.status).toBe(200);
    const op = await eventually('run done', async () => {
      const r = await call(TOKENS.viewer, 'GET', `/v1/clusters/lab/runs/${runId}`);
      return r.body.done ? r.body : undefined;
    });
    expect(op.error).toMatchObject({ type: 'Rejected' });
    expect(op.error.message).toMatch(/rejected by bob \(api\): change window closed/);
    expect(op.progress.rejection).toMatchObject({ step: `remove:${victim}`, by: { principal: 'bob' }, reason: 'change window closed' });
    expect(await memberNames(etcd)).toEqual(members);
  });

  test('cancel through the API records who and why in the history', async () => {
    const victim = await follower();
    const started = await call(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/remove-member', { node: victim, allowTwoToOne: true });
    const runId = started.body.run.runId as string;
    await waitingStep(runId, `remove:${victim}`);
    // An event stream of a waiting run ends with the credential that opened it (test/api/streams.test.ts has the rest).
    const shortLived = await idp.sign({ preferred_username: 'dave', roles: ['viewer'] }, { expiresIn: '3s' });
    const stream = await fetch(`${base}/v1/clusters/lab/runs/${runId}/events`, { headers: { authorization: `Bearer ${shortLived}` }, signal: AbortSignal.timeout(30_000) });
    const text = await stream.text().catch((e) => `aborted: ${(e as Error).message}`);
    expect(text).toMatch(/event: end\ndata: \{"reason":"the credential expired"\}/);
    expect((await call(TOKENS.viewer, 'POST', `/v1/clusters/lab/runs/${runId}/cancel`, { reason: 'x' })).status).toBe(403);
    const c = await call(TOKENS.alice, 'POST', `/v1/clusters/lab/runs/${runId}/cancel`, { reason: 'wrong cluster' });
    expect(c.status).toBe(202);
    const op = await eventually('run done', async () => {
      const r = await call(TOKENS.viewer, 'GET', `/v1/clusters/lab/runs/${runId}`);
      return r.body.done ? r.body : undefined;
    });
    expect(['cancelled', 'failed']).toContain(op.run.state);
    // A signed cancel decision (a Temporal cancel request would not reach the run): who and why in its progress and history.
    expect(op.progress.cancel).toMatchObject({ by: { principal: 'alice', method: 'token', channel: 'api' }, reason: 'wrong cluster', proof: { channel: 'api' } });
    const history = await env.client.workflow.getHandle(op.run.workflowId, runId).fetchHistory();
    const update = history.events?.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'cancel');
    expect(update).toBeDefined();
    expect(await memberNames(etcd)).toEqual(members);
  });
});
