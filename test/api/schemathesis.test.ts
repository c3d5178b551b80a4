import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Authenticator } from '../../api/auth';
import { buildApi } from '../../api/server';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { startWorkerAndClient } from '../support/temporal';
import { testAccess, testInventoryFile, TOKENS } from './fixtures';

jest.setTimeout(10 * 60_000);

const SCHEMATHESIS = '4.32.5';

// Schemathesis (from PyPI) generates requests from the committed OpenAPI document and sends them to
// the API over a real socket, in front of the real Temporal dev server and a worker (whose nodes
// refuse connections, so started runs fail at pre-flight): no 5xx, and every response matches the
// document (status code, content type, headers, body schema).
describe('HTTP API against its OpenAPI document (schemathesis)', () => {
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  let app: FastifyInstance;

  beforeAll(async () => {
    const inventory = testInventoryFile();
    env = await startWorkerAndClient([inventory]);
    const service = new RunService(env.client, env.taskQueue, new InventoryFiles([inventory]), testAccess(), (c) => `etcd-runbooks-${c}-${env.taskQueue}`);
    app = await buildApi({ service, auth: new Authenticator(testAccess()) });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await env?.stop();
  });

  test('no server error and no response outside the document', async () => {
    const bin = execFileSync(join(__dirname, '..', '..', 'scripts', 'python-tool.sh'), ['schemathesis', SCHEMATHESIS], { encoding: 'utf8' }).trim();
    const port = (app.server.address() as AddressInfo).port;
    const report = mkdtempSync(join(tmpdir(), 'schemathesis-'));
    const args = [
      'run', join(__dirname, '..', '..', 'api', 'openapi.json'), '--url', `http://127.0.0.1:${port}`,
      '-H', `Authorization: Bearer ${TOKENS.admin}`,
      '--checks', 'not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance',
      '--phases', 'examples,coverage,fuzzing', '--max-examples', '15', '--seed', '7', '--workers', '1', '--request-timeout', '30',
      '--max-time', '90', '--report', 'junit', '--report-dir', report, '--no-color', '--generation-database', 'none',
    ];
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(join(bin, 'schemathesis'), args, { maxBuffer: 64 << 20, env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false' } }, (e, stdout, stderr) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }));
    });
    const summary = r.out.split('\n').filter((l) => /passed|failed|errors?|operations|test cases|FAILURES|\d+ generated/i.test(l)).slice(-12).join('\n');
    console.log(`schemathesis ${SCHEMATHESIS}, exit ${r.code}:\n${summary}`);
    if (r.code !== 0) console.log(r.out.slice(-8000));
    const junit = readdirSync(report).filter((f) => f.endsWith('.xml')).map((f) => readFileSync(join(report, f), 'utf8')).join('');
    expect(Number(/tests="(\d+)"/.exec(junit)?.[1] ?? 0)).toBeGreaterThan(10); // every operation was exercised
    expect(r.code).toBe(0);
  });
});
