/**
 * HTTP API latency under 20 concurrent clients (issue 11): each client a real HTTP connection to
 * the API (a real socket), the service layer, the local Temporal dev server and a worker process.
 *  - start: 20 clients each start remove-member on a cluster of their own (inventories whose nodes
 *    refuse connections, so the runs end at pre-flight), 5 rounds;
 *  - status: 20 clients each read their run's operation 10 times (GET .../runs/{id});
 *  - approve: with the lab (skip with --no-lab), a remove-member run waits for approval and 20
 *    clients at once send an approve that its update validator refuses on the worker (409), 5
 *    rounds, then one real approval (the full update round trip either way).
 * Prints median, p90 and max per operation; figures, not assertions. Results also go to
 * .state/bench/api-<timestamp>.json.
 * Usage: npm run bench:api [-- --no-lab]   (its own lab: ETCD_RUNBOOKS_LAB_ID=7 unless set)
 */
process.env.ETCD_RUNBOOKS_LAB_ID ??= '7';

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { Authenticator, tokenHash } from '../api/auth';
import { buildApi } from '../api/server';
import { AccessSchema } from '../config/access';
import { temporalSettings } from '../config/temporal';
import { InventoryFiles } from '../service/inventories';
import { RunService } from '../service/runs';
import { testInventoryFile } from '../test/api/fixtures';
import { freshLabWith, INVENTORY, lab } from '../test/support/lab';
import { WorkerProcess } from '../test/support/workerProcess';
import { median } from './stats';

const CLIENTS = 20;
const REPO = join(__dirname, '..');
const TOKENS = { alice: 'bench-alice-0123456789', bob: 'bench-bob-0123456789' };

const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const withLab = !process.argv.includes('--no-lab');
  const dir = mkdtempSync(join(tmpdir(), 'bench-api-'));
  const fake = YAML.parse(readFileSync(testInventoryFile(), 'utf8'));
  for (let i = 1; i <= CLIENTS; i++) writeFileSync(join(dir, `c${i}.yaml`), YAML.stringify({ ...fake, cluster: `c${i}` }));
  if (withLab) { freshLabWith(3, 3); copyFileSync(INVENTORY, join(dir, 'lab.yaml')); }
  const settings = temporalSettings();
  const taskQueue = `bench-api-${process.pid}`;
  const worker = new WorkerProcess(taskQueue, dir);
  await worker.start();
  const connection = await Connection.connect({ address: settings.address });
  const access = AccessSchema.parse({ tokens: [{ name: 'alice', sha256: tokenHash(TOKENS.alice), roles: ['operator'] }, { name: 'bob', sha256: tokenHash(TOKENS.bob), roles: ['approver'] }] });
  const service = new RunService(new Client({ connection, namespace: settings.namespace }), taskQueue, new InventoryFiles([dir]), access, (c) => `etcd-runbooks-${c}-${taskQueue}`);
  const app = await buildApi({ service, auth: new Authenticator(access) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const timed = async (token: string, method: string, path: string, body?: unknown) => {
    const t = performance.now();
    const r = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = await r.json() as { done?: boolean; run?: { runId: string }; progress?: { pendingApproval?: { step: string } } };
    return { ms: performance.now() - t, status: r.status, json };
  };
  const samples: Record<string, { ms: number[]; statuses: Record<number, number> }> = {};
  const record = (op: string, r: { ms: number; status: number }) => {
    const s = (samples[op] ??= { ms: [], statuses: {} });
    s.ms.push(r.ms);
    s.statuses[r.status] = (s.statuses[r.status] ?? 0) + 1;
  };
  try {
    const runs: string[] = [];
    for (let round = 0; round < 5; round++) {
      const started = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => timed(TOKENS.alice, 'POST', `/v1/clusters/c${i + 1}/runbooks/remove-member`, { node: 'node3' })));
      started.forEach((r) => record('start (POST runbook)', r));
      started.forEach((r, i) => { runs[i] = r.json.run?.runId ?? ''; });
      // Each run ends at pre-flight (its nodes refuse connections) before the next round starts.
      for (let i = 0; i < CLIENTS; i++) while (!(await timed(TOKENS.alice, 'GET', `/v1/clusters/c${i + 1}/runs/${runs[i]}`)).json.done) await sleep(200);
    }
    await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      for (let k = 0; k < 10; k++) record('status (GET operation)', await timed(TOKENS.alice, 'GET', `/v1/clusters/c${i + 1}/runs/${runs[i]}`));
    }));
    if (withLab) {
      const run = await timed(TOKENS.alice, 'POST', '/v1/clusters/lab/runbooks/remove-member', { node: 'node3' });
      const runId = run.json.run!.runId;
      while ((await timed(TOKENS.alice, 'GET', `/v1/clusters/lab/runs/${runId}`)).json.progress?.pendingApproval?.step !== 'remove:node3') await sleep(200);
      for (let round = 0; round < 5; round++) {
        const refused = await Promise.all(Array.from({ length: CLIENTS }, () => timed(TOKENS.bob, 'POST', `/v1/clusters/lab/runs/${runId}/approve`, { step: 'not-waiting' })));
        refused.forEach((r) => record('approve (refused by the validator)', r));
      }
      record('approve (accepted)', await timed(TOKENS.bob, 'POST', `/v1/clusters/lab/runs/${runId}/approve`, { step: 'remove:node3' }));
      await service.cancel({ principal: 'alice', method: 'token', channel: 'api', roles: ['operator'] }, 'lab', 'bench done', runId).catch(() => undefined);
    }
    const t = new Table({ head: ['operation', 'n', 'median ms', 'p90 ms', 'max ms', 'statuses'] });
    for (const [op, s] of Object.entries(samples)) t.push([op, s.ms.length, median(s.ms).toFixed(0), p90(s.ms).toFixed(0), Math.max(...s.ms).toFixed(0), Object.entries(s.statuses).map(([k, v]) => `${k}x${v}`).join(' ')]);
    console.log(`API latency, ${CLIENTS} concurrent clients (real sockets, dev server, one worker process):\n${t.toString()}`);
    const out = join(REPO, '.state', 'bench');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, `api-${Date.now()}.json`), JSON.stringify({ clients: CLIENTS, samples }, null, 2));
  } finally {
    await app.close();
    await worker.stop();
    await connection.close();
    if (withLab && !process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
