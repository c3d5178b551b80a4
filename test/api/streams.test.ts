import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Authenticator } from '../../api/auth';
import { buildApi } from '../../api/server';
import type { Operation } from '../../service/operation';
import type { RunService } from '../../service/runs';
import { testAccess, testIdp, TOKENS } from './fixtures';

// Insider finding 6: event streams were unbounded and outlived the credential that opened them.
// The service is a stand-in that reads a run that never ends (the stream's own logic is under test).
describe('event streams', () => {
  let app: FastifyInstance;
  let base: string;
  let idp: Awaited<ReturnType<typeof testIdp>>;
  const running: Operation = { name: 'clusters/lab/runs/r', done: false, run: { workflowId: 'w', runId: '01a20467-5319-71fe-8f2e-ba52cd0236be', workflow: 'removeMember', cluster: 'lab', state: 'running', startedAt: '2026-12-03T00:00:00Z' } };
  const url = () => `${base}/v1/clusters/lab/runs/01a20467-5319-71fe-8f2e-ba52cd0236be/events`;

  beforeAll(async () => {
    idp = await testIdp();
    const access = testAccess();
    // A read takes a moment, as Temporal's does: streams opened together overlap in it.
    const service = { get: async () => { await new Promise((r) => setTimeout(r, 100)); return running; } } as unknown as RunService;
    app = await buildApi({ service, auth: new Authenticator(access, idp.jwks), eventIntervalSeconds: 0.2, maxStreamSeconds: 4 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => { await app?.close(); });

  test('a stream ends when the credential that opened it expires, and says so', async () => {
    const jwt = await idp.sign({ preferred_username: 'dave', roles: ['viewer'] }, { expiresIn: '2s' });
    const text = await (await fetch(url(), { headers: { authorization: `Bearer ${jwt}` } })).text();
    expect(text).toMatch(/^id: 1\nevent: operation\n/);
    expect(text).toMatch(/event: end\ndata: \{"reason":"the credential expired"\}\n\n$/);
  });

  test('a stream of a credential without expiry ends at the time limit', async () => {
    const text = await (await fetch(url(), { headers: { authorization: `Bearer ${TOKENS.viewer}` } })).text();
    expect(text).toMatch(/event: end\ndata: \{"reason":"the stream reached its time limit"\}\n\n$/);
  });

  test('one principal holds at most 4 streams; a closed one frees its place', async () => {
    const open = () => fetch(url(), { headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    // Opened at the same moment: each must count (a count read before an await let all of them through).
    const held = await Promise.all([open(), open(), open(), open()]);
    expect(held.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const fifth = await open();
    expect([fifth.status, (await fifth.json() as { error: { kind: string } }).error.kind]).toEqual([429, 'rate-limited']);
    await Promise.all(held.map((r) => r.text())); // each ends at the 4 s limit
    const again = await open();
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });
});
