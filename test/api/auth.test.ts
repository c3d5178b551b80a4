import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { Authenticator } from '../../api/auth';
import { buildApi } from '../../api/server';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { testAccess, testIdp, testInventoryFile, TOKENS } from './fixtures';

// The API in front of a Temporal address where nothing listens: every refusal that must come
// before Temporal (authentication, role, input) is checked, and a valid request gets 503.
describe('HTTP API: authentication, roles, validation (Fastify inject)', () => {
  let app: FastifyInstance;
  let connection: Connection;
  let idp: Awaited<ReturnType<typeof testIdp>>;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  let jwksServer: Server;

  beforeAll(async () => {
    idp = await testIdp();
    // The identity provider's JWKS served over HTTP on loopback: the API fetches it as in production.
    jwksServer = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(idp.jwksDocument)); });
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', () => r()));
    const access = testAccess(`http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`);
    connection = Connection.lazy({ address: '127.0.0.1:1', connectTimeout: '1s', interceptors: [] });
    const service = new RunService(new Client({ connection }), 'api-test', new InventoryFiles([testInventoryFile()]), access);
    app = await buildApi({ service, auth: new Authenticator(access) });
  });
  afterAll(async () => { await app?.close(); await connection?.close(); await new Promise((r) => jwksServer?.close(r)); });

  const start = (headers: Record<string, string>, body: unknown = { node: 'node3' }) =>
    app.inject({ method: 'POST', url: '/v1/clusters/lab/runbooks/remove-member', headers, payload: body as object });

  // Insider finding 6: no route had a rate limit (token guessing, flooding Temporal through the API).
  test('more requests a minute than the limit are 429 per credential, in the API\'s error shape; others go on', async () => {
    const access = testAccess();
    const limited = await buildApi({ service: new RunService(new Client({ connection }), 'api-test', new InventoryFiles([testInventoryFile()]), access), auth: new Authenticator(access), rateLimitPerMinute: 5 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) codes.push((await limited.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(TOKENS.viewer) })).statusCode);
      expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const r = await limited.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(TOKENS.viewer) });
      expect(r.json().error).toMatchObject({ kind: 'rate-limited', message: expect.stringMatching(/more than 5 requests a minute/) });
      expect(r.headers['retry-after']).toBeDefined();
      // Guessing tokens: each wrong token counts under its own header, and no credential under the address.
      expect((await limited.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(TOKENS.alice) })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });

  test('access changes apply without a restart: a removed token is refused at the next request', async () => {
    let policy = testAccess();
    const live = await buildApi({ service: new RunService(new Client({ connection }), 'api-test', new InventoryFiles([testInventoryFile()]), () => policy), auth: new Authenticator(() => policy) });
    try {
      expect((await live.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(TOKENS.bob) })).statusCode).toBe(200);
      policy = { ...policy, tokens: policy.tokens.filter((t) => t.name !== 'bob') };
      expect((await live.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(TOKENS.bob) })).statusCode).toBe(401);
    } finally {
      await live.close();
    }
  });

  // Insider finding 6: four-eyes compared principal strings across identity namespaces, so one
  // person with an OIDC login and a Slack mapping could request and approve alone.
  test('one person across channels: an OIDC login and a token listed under a person are that person', async () => {
    const policy = { ...testAccess(), people: { alice: { oidc: ['f81d4fae-7dec'], tokens: ['mallory'] } } };
    const mapped = await buildApi({ service: new RunService(new Client({ connection }), 'api-test', new InventoryFiles([testInventoryFile()]), policy), auth: new Authenticator(policy, idp.jwks) });
    try {
      const jwt = await idp.sign({ preferred_username: 'f81d4fae-7dec', roles: ['approver'] });
      expect((await mapped.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(jwt) })).json()).toEqual({ principal: 'alice', method: 'oidc', channel: 'api', roles: ['approver'] });
      expect((await mapped.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(TOKENS.mallory) })).json()).toMatchObject({ principal: 'alice', method: 'token', roles: ['operator'] });
      expect((await mapped.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(TOKENS.bob) })).json()).toMatchObject({ principal: 'bob' });
    } finally {
      await mapped.close();
    }
  });

  test('no credentials, a malformed header and an unknown token are 401 with WWW-Authenticate', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, bearer('not-a-token')]) {
      const r = await start(headers);
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(r.json().error.kind).toBe('unauthenticated');
    }
  });

  test('OIDC: a valid JWT authenticates with its claims; bad signature, expired, without expiry and wrong audience are 401', async () => {
    const ok = await idp.sign({ preferred_username: 'carol', roles: ['approver', 'not-a-role'] });
    const me = await app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(ok) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ principal: 'carol', method: 'oidc', channel: 'api', roles: ['approver'] });
    const refused = {
      'bad signature': await idp.sign({ preferred_username: 'carol', roles: ['admin'] }, { key: 'other' }),
      expired: await idp.sign({ preferred_username: 'carol', roles: ['admin'] }, { expiresIn: '-10m' }),
      // Insider finding 6: a token without `exp` would be valid forever once leaked.
      'no expiry': await idp.sign({ preferred_username: 'carol', roles: ['admin'] }, { expiresIn: null }),
      'wrong audience': await idp.sign({ preferred_username: 'carol', roles: ['admin'] }, { audience: 'someone-else' }),
    };
    for (const [why, jwt] of Object.entries(refused)) {
      const r = await app.inject({ method: 'GET', url: '/v1/whoami', headers: bearer(jwt) });
      expect([why, r.statusCode]).toEqual([why, 401]);
    }
  });

  test('roles: a viewer may not start a runbook, an operator-only caller may not approve (403)', async () => {
    const r = await start(bearer(TOKENS.viewer));
    expect(r.statusCode).toBe(403);
    expect(r.json().error.message).toMatch(/vic .* needs the operator role/);
    const a = await app.inject({ method: 'POST', url: '/v1/clusters/lab/runs/01a20467-5319-71fe-8f2e-ba52cd0236be/approve', headers: bearer(TOKENS.mallory), payload: { step: 'remove:node3' } });
    expect(a.statusCode).toBe(403);
    expect(a.json().error.message).toMatch(/needs the approver role/);
  });

  test('invalid input is 400 naming the field; nothing reaches Temporal', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ node: 'Node_3' }, /node/],
      [{ node: 'node3', requester: { principal: 'bob', method: 'token', channel: 'api' } }, /requester|Unrecognized/i],
      [{ node: 'node9' }, /node9/],
    ];
    for (const [body, field] of cases) {
      const r = await start(bearer(TOKENS.alice), body);
      expect(r.statusCode).toBe(400);
      expect(r.json().error.message).toMatch(field);
    }
    const unknownCluster = await app.inject({ method: 'POST', url: '/v1/clusters/other/runbooks/remove-member', headers: bearer(TOKENS.alice), payload: { node: 'node3' } });
    expect(unknownCluster.statusCode).toBe(404);
  });

  test('/metrics: 401 without a token; for a viewer, a cluster whose watch and runs cannot be read is read_ok 0 with nothing else of its own', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const r = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(TOKENS.viewer) });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toContain('etcd_runbooks_cluster_read_ok{cluster="lab"} 0');
    expect(r.body).not.toMatch(/^etcd_runbooks_member_etcd_serving\{/m);
  });

  test('a valid request while Temporal is unreachable is 503 with Retry-After', async () => {
    const r = await start(bearer(TOKENS.alice));
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(r.json().error.kind).toBe('unavailable');
  });

  test('the committed openapi.json is the document the API generates', async () => {
    const served = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'api', 'openapi.json'), 'utf8'));
    expect(served).toEqual(committed);
    expect(Object.keys(served.paths)).toEqual(expect.arrayContaining(['/v1/clusters/{cluster}/runbooks/restore', '/v1/clusters/{cluster}/runs/{runId}/approve']));
    expect(served.paths['/v1/clusters/{cluster}/runbooks/remove-member'].post.requestBody.content['application/json'].schema.required).toEqual(['node']);
  });
});
