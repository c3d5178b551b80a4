import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { AccessSchema } from '../../config/access';
import { Authenticator } from '../../api/auth';
import { buildApi } from '../../api/server';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';

const dir = mkdtempSync(join(tmpdir(), 'api-mtls-'));
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
const f = (name: string) => join(dir, name);

/** A CA, a server certificate for 127.0.0.1 and client certificates signed by it (and one by another CA), made with openssl. */
function makePki(): void {
  for (const ca of ['ca', 'rogue-ca']) ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=${ca}`, '-days', '2');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  const leaf = (name: string, ca: string, ext?: string) => {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...(ext ? ['-extfile', ext] : []));
  };
  leaf('server', 'ca', 'server.ext');
  leaf('ops-laptop', 'ca');
  leaf('unmapped', 'ca');
  leaf('intruder', 'rogue-ca');
}

// The API over HTTPS asking for client certificates: a certificate signed by the configured CA and
// mapped in the access config authenticates (method mtls); others are refused.
describe('HTTP API: client certificates (mTLS, real TLS socket)', () => {
  let app: FastifyInstance;
  let connection: Connection;
  let port: number;

  beforeAll(async () => {
    makePki();
    const access = AccessSchema.parse({ mtls: { 'ops-laptop': ['viewer'] } });
    connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
    app = await buildApi({
      service: new RunService(new Client({ connection }), 'mtls', new InventoryFiles([]), access), auth: new Authenticator(access),
      fastify: { https: { cert: readFileSync(f('server.crt')), key: readFileSync(f('server.key')), ca: readFileSync(f('ca.crt')), requestCert: true, rejectUnauthorized: false } },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => { await app?.close(); await connection?.close(); });

  const whoami = (client?: string) => new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port, path: '/v1/whoami', ca: readFileSync(f('ca.crt')),
      ...(client ? { cert: readFileSync(f(`${client}.crt`)), key: readFileSync(f(`${client}.key`)) } : {}),
    }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end();
  });

  test('a mapped certificate of the CA authenticates; no certificate, an unmapped one and another CA\'s are 401', async () => {
    expect(await whoami('ops-laptop')).toEqual({ status: 200, body: { principal: 'ops-laptop', method: 'mtls', channel: 'api', roles: ['viewer'] } });
    for (const who of [undefined, 'unmapped', 'intruder']) {
      const r = await whoami(who);
      expect([who, r.status]).toEqual([who, 401]);
    }
  });
});
