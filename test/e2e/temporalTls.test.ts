import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { temporalSettings, type TemporalSettings } from '../../config/temporal';
import { connectClient } from '../../client/connect';
import { createWorker } from '../../worker/createWorker';
import { backupCluster } from '../../workflows';
import { startSigned } from '../support/temporal';
import { errorMessage } from '../../workflows/steps';
import { testInventoryFile } from '../api/fixtures';
import { startTlsProxy } from '../support/tlsProxy';

jest.setTimeout(5 * 60_000);

const dir = mkdtempSync(join(tmpdir(), 'temporal-tls-'));
const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
const f = (name: string) => join(dir, name);

// The worker and the CLI's client reach Temporal through TLS with client certificates (mTLS),
// configured from the environment as in production (config/temporal.ts), through a TLS terminator
// in front of the dev server.
describe('Temporal over mTLS from config (worker and CLI client)', () => {
  let proxy: Awaited<ReturnType<typeof startTlsProxy>>;

  beforeAll(async () => {
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=temporal-ca', '-days', '2');
    // X.509 v3 throughout (extensions make `openssl x509 -req` write v3): rustls, in the worker, refuses v1.
    writeFileSync(f('server.ext'), 'subjectAltName=DNS:temporal.lab\nextendedKeyUsage=serverAuth\n');
    writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const [name, ext] of [['server', 'server.ext'], ['worker', 'client.ext'], ['cli', 'client.ext']]) {
      ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...(ext ? ['-extfile', ext] : []));
    }
    proxy = await startTlsProxy({ cert: readFileSync(f('server.crt')), key: readFileSync(f('server.key')), ca: readFileSync(f('ca.crt')), target: temporalSettings().address });
    try { Runtime.install({ logger: new DefaultLogger('WARN') }); } catch { /* installed by another test in this worker */ }
  });
  afterAll(async () => { await proxy?.close(); });

  const env = (who: string, extra: Record<string, string> = {}) => ({
    TEMPORAL_ADDRESS: proxy.address, TEMPORAL_TLS_CA: f('ca.crt'), TEMPORAL_TLS_SERVER_NAME: 'temporal.lab',
    TEMPORAL_TLS_CERT: f(`${who}.crt`), TEMPORAL_TLS_KEY: f(`${who}.key`), ETCD_RUNBOOKS_TASK_QUEUE: `tls-${process.pid}`, ...extra,
  });

  test('a worker and a client with certificates run a workflow through TLS; a client without one is refused', async () => {
    const workerSettings: TemporalSettings = temporalSettings(env('worker'));
    expect(workerSettings.tls).toEqual({ caFile: f('ca.crt'), certFile: f('worker.crt'), keyFile: f('worker.key'), serverName: 'temporal.lab' });
    const w = await createWorker(workerSettings, [testInventoryFile()]);
    const running = w.run();
    const { client, connection } = await connectClient(temporalSettings(env('cli')));
    try {
      // The fake cluster's nodes cannot be reached: the run fails in its first activity, which the worker ran.
      const err = await (await startSigned(client, `tls-${process.pid}`, backupCluster, `tls-${Date.now()}`, { cluster: 'lab' })).result().catch((e) => e);
      expect(errorMessage(err)).toMatch(/no node could list the members of lab/);
    } finally {
      await connection.close();
      w.shutdown();
      await running;
    }
    expect(proxy.accepted()).toBeGreaterThanOrEqual(2);

    const before = proxy.refused();
    const noCert = temporalSettings({ TEMPORAL_ADDRESS: proxy.address, TEMPORAL_TLS_CA: f('ca.crt'), TEMPORAL_TLS_SERVER_NAME: 'temporal.lab' });
    const refused = await connectClient(noCert).then(async ({ connection: c }) => { await c.close(); return 'connected'; }, (e: Error) => e.message);
    expect(refused).not.toBe('connected');
    expect(proxy.refused()).toBeGreaterThan(before);
  });

  test('TLS settings are checked: a certificate without its key is refused at start', () => {
    expect(() => temporalSettings({ TEMPORAL_TLS_CERT: '/x.crt' })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
    expect(temporalSettings({}).tls).toBeUndefined();
  });
});
