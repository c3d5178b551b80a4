import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Etcd3 } from 'etcd3';
import YAML from 'yaml';
import { tokenHash } from '../../api/auth';
import { recordPaths, verifyRecordFile } from '../../audit/store';
import { verifyClusterChain } from '../../audit/clusterChain';
import type { Inventory } from '../../inventory/schema';
import type { Operation } from '../../service/operation';
import { memberClient, nonLeader } from '../support/etcd';
import { freshLabWith, lab, LAB, LAB_ENV, LAB_STATE, onNode } from '../support/lab';
import { clusterFingerprint } from '../support/fingerprint';
import { eventually } from '../support/temporal';

jest.setTimeout(30 * 60_000);

const TOKENS = { alice: 'tok-alice-power-0123456789', bob: 'tok-bob-power-0123456789' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * `count` step indexes, ascending, one drawn at random in each of `count` equal parts of the steps
 * `from`..three quarters of `n` (all the rest of the plan when that is too short).
 */
const cutTargets = (from: number, n: number, count: number): number[] => {
  const end = Math.max(Math.floor(n * 0.75), Math.min(n, from + count));
  const width = (end - from) / Math.max(1, count);
  return Array.from({ length: count }, (_, i) => from + Math.floor(width * i + Math.random() * Math.max(1, width) * 0.999));
};

/** One power cut and what it cost. */
interface Cut { runbook: string; atMs: number; servingMs: number; movingMs?: number }

// The head node itself (PostgreSQL + Temporal server + worker + API + CLI service, installed from
// the release tarball by its deploy/head-node/install.sh as its default users, Temporal with mTLS)
// in an nspawn container beside the etcd nodes, with no checkout mounted.
// Its power is cut (SIGKILL of its init) at random moments of each runbook and during an approval
// wait; after each boot the runs go on, and each one's side effects happened once.
describe('power cuts of the head node (end to end)', () => {
  let inv: Inventory;
  let head: string;
  let base: string;
  const cuts: Cut[] = [];
  const clients: Etcd3[] = [];
  const etcd = (n: string) => { const c = memberClient(inv, n); clients.push(c); return c; };

  /** A call to the head node's API; undefined while it does not answer (power cut, booting). */
  const call = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any } | undefined> => {
    try {
      const r = await fetch(`${base}${path}`, {
        method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000),
      });
      return { status: r.status, json: await r.json().catch(() => undefined) };
    } catch {
      return undefined;
    }
  };
  const operation = async (runId: string): Promise<Operation | undefined> => {
    const r = await call('GET', `/v1/clusters/lab/runs/${runId}`, TOKENS.bob);
    return r?.status === 200 ? (r.json as Operation) : undefined;
  };
  const runs: Array<{ workflowId: string; runId: string }> = [];
  const start = async (runbook: string, body: unknown): Promise<string> => {
    const r = await eventually(`start ${runbook}`, async () => call('POST', `/v1/clusters/lab/runbooks/${runbook}`, TOKENS.alice, body), 120_000);
    if (r.status !== 202) throw new Error(`start ${runbook}: ${r.status} ${JSON.stringify(r.json)}`);
    const { workflowId, runId } = (r.json as Operation).run;
    runs.push({ workflowId, runId });
    return runId;
  };

  /** Cuts the head node's power, boots it, and measures boot -> API serving and -> the run moving again. */
  const powerCut = async (runbook: string, runId?: string): Promise<void> => {
    const before = runId ? JSON.stringify((await operation(runId))?.progress?.steps ?? []) : '';
    lab('head', 'crash');
    const booted = Date.now();
    lab('head', 'start');
    await eventually('API serving after the power cut', async () => ((await call('GET', '/v1/whoami', TOKENS.bob))?.status === 200 ? true : undefined), 180_000);
    const servingMs = Date.now() - booted;
    let movingMs: number | undefined;
    if (runId) {
      await eventually('the run moving again', async () => {
        const op = await operation(runId);
        return op && (op.done || JSON.stringify(op.progress?.steps ?? []) !== before || op.progress?.pendingApproval) ? true : undefined;
      }, 300_000);
      movingMs = Date.now() - booted;
    }
    cuts.push({ runbook, atMs: booted, servingMs, ...(movingMs !== undefined ? { movingMs } : {}) });
    console.log(`[power cut] ${runbook}: API serving ${(servingMs / 1000).toFixed(1)} s after boot${movingMs !== undefined ? `, run moving ${(movingMs / 1000).toFixed(1)} s` : ''}`);
  };

  /**
   * Runs `runId` to its end with `count` power cuts, bob approving each waiting step. The cuts
   * follow the run's plan, not the clock (the runs take a few seconds, so cuts on a timer missed
   * their ends): the plan's steps from the current one to three quarters of the way are split into
   * `count` parts, a step is drawn at random in each, and the power is cut at the first poll that
   * sees the run at or past the drawn step. Returns the final operation and how many cuts landed
   * while it ran.
   */
  const runWithCuts = async (runbook: string, runId: string, count: number): Promise<{ op: Operation; cut: number }> => {
    let cut = 0;
    let approved = '';
    let targets: number[] | undefined;
    for (;;) {
      const op = await operation(runId);
      if (op?.done) return { op, cut };
      const waiting = op?.progress?.pendingApproval?.step;
      if (waiting && waiting !== approved) {
        const r = await call('POST', `/v1/clusters/lab/runs/${runId}/approve`, TOKENS.bob, { step: waiting });
        if (r?.status === 200) approved = waiting;
      }
      const steps = op?.progress?.steps ?? [];
      const at = steps.findIndex((s) => s.status === 'running' || s.status === 'pending');
      if (steps.length && at >= 0) {
        targets ??= cutTargets(at, steps.length, count);
        if (cut < count && at >= targets[cut]) {
          await powerCut(runbook, runId);
          cut++;
        }
      }
      await sleep(50);
    }
  };

  const voters = async (via: string): Promise<string[]> => {
    const members = (await etcd(via).cluster.memberList({ linearizable: true })).members ?? [];
    expect(members.filter((m) => m.isLearner)).toEqual([]);
    return members.map((m) => m.name).sort();
  };
  const snapshots = (node: string) => onNode(node, 'ls -1 /var/backups/etcd-runbooks/ 2>/dev/null | grep -E "^lab-node[0-9]+-rev[0-9]+-[0-9TZ]+\\.db$" || true').trim().split('\n').filter(Boolean);

  beforeAll(async () => {
    inv = freshLabWith(5, 1);
    const dir = mkdtempSync(join(tmpdir(), 'head-'));
    const access = join(dir, 'access.yaml');
    writeFileSync(access, YAML.stringify({
      // OS accounts on the head node, who use the CLI as themselves through the CLI service.
      osUsers: { root: ['admin'], alice: ['operator'], bob: ['approver'] },
      tokens: [
        { name: 'alice', sha256: tokenHash(TOKENS.alice), roles: ['operator', 'approver'] },
        { name: 'bob', sha256: tokenHash(TOKENS.bob), roles: ['approver'] },
      ],
    }));
    const t = Date.now();
    // Bare: no checkout and no Node.js from the host; the release tarball is installed as an operator would.
    head = lab('head', 'up', '--bare', '--tls', '--access', access).trim().split('\n').pop()!;
    console.log(`[head node] install and first boot: ${((Date.now() - t) / 1000).toFixed(1)} s`);
    base = `http://${head}:8080`;
    await eventually('API serving', async () => ((await call('GET', '/v1/whoami', TOKENS.alice))?.status === 200 ? true : undefined), 180_000);
  });
  afterAll(() => {
    clients.splice(0).forEach((c) => c.close());
    if (cuts.length) {
      const s = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return `min ${(v[0] / 1000).toFixed(1)} s, median ${(v[Math.floor(v.length / 2)] / 1000).toFixed(1)} s, max ${(v[v.length - 1] / 1000).toFixed(1)} s`; };
      console.log(`[power cuts] ${cuts.length}: boot -> API serving ${s(cuts.map((c) => c.servingMs))}; boot -> run moving ${s(cuts.filter((c) => c.movingMs !== undefined).map((c) => c.movingMs!))}`);
    }
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('Temporal on the head node speaks mTLS only', async () => {
    const pki = join(LAB_STATE, 'head', 'pki');
    const tls = { serverNameOverride: 'head', serverRootCACertificate: readFileSync(join(pki, 'ca.crt')) };
    const good = await Connection.connect({ address: `${head}:7233`, tls: { ...tls, clientCertPair: { crt: readFileSync(join(pki, 'client.crt')), key: readFileSync(join(pki, 'client.key')) } } });
    expect((await good.workflowService.describeNamespace({ namespace: 'default' })).namespaceInfo?.name).toBe('default');
    await good.close();
    const noCert = await Connection.connect({ address: `${head}:7233`, tls, connectTimeout: '3s' }).then(async (c) => {
      try { return await c.workflowService.describeNamespace({ namespace: 'default' }); } finally { await c.close(); }
    }).catch((e: Error) => e);
    expect(noCert).toBeInstanceOf(Error);
  });

  test('expand 1 -> 3 survives 3 power cuts and adds each member once', async () => {
    const runId = await start('expand', { add: ['node2', 'node3'] });
    const { op, cut } = await runWithCuts('expand', runId, 3);
    expect(op.run.state).toBe('completed');
    expect(cut).toBe(3);
    expect(await voters('node1')).toEqual(['node1', 'node2', 'node3']);
  });

  test('OS users on the head node: alice (operator) runs doctor and starts remove-member as herself and cannot approve it; bob rejects it as bob; neither reads a key or reaches Temporal; the worker and the front ends hold only their own keys', async () => {
    for (const u of ['alice', 'bob']) lab('head', 'exec', 'useradd', '--no-create-home', '--shell', '/bin/sh', u);
    /** A command on the head node as OS user `user`, with an environment that tries to make it admin. */
    const as = (user: string, ...argv: string[]) => {
      const r = spawnSync(LAB, ['head', 'exec', 'runuser', '-u', user, '--', 'env', 'ETCD_RUNBOOKS_ACCESS=/dev/null', ...argv], { encoding: 'utf8', env: LAB_ENV, timeout: 120_000 });
      return { code: r.status, out: `${r.stdout}${r.stderr}` };
    };
    const cli = (user: string, ...args: string[]) => as(user, '/usr/local/bin/node', '/opt/etcd-runbooks/bin/etcd-runbooks', ...args);
    // The head node runs the release: no sources, its own Node.js runtime, the version it was built as.
    const version = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
    expect(cli('alice', '--version')).toMatchObject({ code: 0, out: expect.stringMatching(new RegExp(`^${version.replace(/\./g, '\\.')} \\([0-9a-f]{12}`)) });
    expect(as('root', 'sh', '-c', 'test -e /opt/etcd-runbooks/client || test -e /opt/etcd-runbooks/workflows; echo $?; readlink -f /usr/local/bin/node').out).toBe('1\n/opt/etcd-runbooks/runtime/node\n');
    for (const f of ['/etc/etcd-runbooks/keys/cli.pem', '/etc/etcd-runbooks/keys/api.pem', '/etc/etcd-runbooks/keys/audit.pem', '/etc/etcd-runbooks/tls/client-key.pem', '/etc/etcd-runbooks/access.yaml']) {
      expect({ f, ...as('alice', 'cat', f) }).toMatchObject({ f, code: 1, out: expect.stringContaining('Permission denied') });
    }
    // The services run as two users: the worker's holds the SSH key and the audit key, the front
    // ends' (API, CLI service) the decision signing keys and the policy; neither reads the other's.
    const procs = as('root', 'ps', '-eo', 'user:32,args').out.split('\n').filter((l) => l.includes('bin/etcd-runbooks'));
    expect(procs.filter((l) => / worker$/.test(l))).toEqual([expect.stringMatching(/^etcd-runbooks\s/)]);
    expect(procs.filter((l) => / (api|cli-service) /.test(l)).map((l) => l.split(/\s+/)[0])).toEqual(['etcd-runbooks-front', 'etcd-runbooks-front']);
    for (const f of ['/etc/etcd-runbooks/keys/audit.pem', '/etc/etcd-runbooks/ssh/lab_ed25519']) {
      expect({ f, ...as('etcd-runbooks-front', 'cat', f) }).toMatchObject({ f, code: 1, out: expect.stringContaining('Permission denied') });
    }
    for (const f of ['/etc/etcd-runbooks/keys/cli.pem', '/etc/etcd-runbooks/keys/api.pem', '/etc/etcd-runbooks/access.yaml']) {
      expect({ f, ...as('etcd-runbooks', 'cat', f) }).toMatchObject({ f, code: 1, out: expect.stringContaining('Permission denied') });
    }
    // Temporal wants a client certificate alice cannot read; without one it refuses her.
    const temporal = as('alice', 'timeout', '30', '/usr/local/bin/temporal', 'operator', 'namespace', 'describe', '--namespace', 'default', '--address', '127.0.0.1:7233',
      '--tls-ca-path', '/etc/etcd-runbooks/tls/ca.pem', '--tls-server-name', 'head', '--command-timeout', '10s');
    expect(temporal.code).not.toBe(0);
    expect(temporal.out).not.toMatch(/NamespaceInfo|"name": "default"/);
    // doctor runs through the worker, so alice (no SSH key) checks every node as herself.
    const doctor = cli('alice', 'doctor', '-i', 'lab');
    expect(doctor).toMatchObject({ code: 0, out: expect.stringMatching(/\d+ checks: \d+ ok, \d+ warnings, 0 problems/) });
    expect(doctor.out).toMatch(/node1 +│ etcd member +│ ok/);

    const victim = await nonLeader(inv, ['node2', 'node3']);
    // --plan: pre-flight and the plan only; nothing changes on any node.
    const before = await clusterFingerprint(etcd('node1'), ['node1', 'node2', 'node3']);
    const planned = cli('alice', 'remove-member', '-i', 'lab', '-n', victim, '--plan');
    expect(planned).toMatchObject({ code: 0, out: expect.stringContaining('removeMember plan for lab (dry run: pre-flight passed; nothing was changed)') });
    expect(planned.out).toMatch(new RegExp(`${victim}: remove the member \\(member remove\\)\\s*│ 2\\s*│ 2\\s*│ 2\\s*│ 0`));
    expect(await clusterFingerprint(etcd('node1'), ['node1', 'node2', 'node3'])).toEqual(before);
    const started = cli('alice', 'remove-member', '-i', 'lab', '-n', victim, '--no-wait');
    expect(started).toMatchObject({ code: 0, out: expect.stringMatching(/started removeMember on lab: workflow \S+, run [0-9a-f-]{36}/) });
    const [, workflowId, runId] = /workflow (\S+), run ([0-9a-f-]{36})/.exec(started.out)!;
    runs.push({ workflowId, runId });
    const waiting = await eventually('waiting for approval', async () => (await operation(runId))?.progress?.pendingApproval?.step, 120_000);
    expect((await operation(runId))?.requester).toEqual({ principal: 'alice', method: 'os-user', channel: 'cli' });
    expect(cli('alice', 'approve', '-i', 'lab', '--step', waiting)).toMatchObject({ code: 1, out: expect.stringContaining('alice (os-user) may not approve steps: needs the approver role') });
    expect(cli('alice', 'remove-member', '-i', 'lab', '-n', victim, '--yes')).toMatchObject({ code: 1, out: expect.stringMatching(/four-eyes: alice may not approve their own/) });
    expect(cli('bob', 'reject', '-i', 'lab', '--step', waiting, '--reason', 'not during the drill')).toMatchObject({ code: 0, out: expect.stringContaining(`rejected ${waiting} as bob`) });
    const op = await eventually('the run ended', async () => { const o = await operation(runId); return o?.done ? o : undefined; }, 120_000);
    expect(op.progress?.rejection).toMatchObject({ step: waiting, by: { principal: 'bob', method: 'os-user', channel: 'cli' }, reason: 'not during the drill', proof: { method: 'os-user', channel: 'cli' } });
    expect(await voters('node1')).toEqual(['node1', 'node2', 'node3']);
  });

  test('backup: a power cut in each of three runs; one snapshot per run', async () => {
    const before = ['node1', 'node2', 'node3'].flatMap(snapshots);
    let cut = 0;
    let runs = 0;
    while (cut < 3) {
      const runId = await start('backup', { keep: 20 });
      runs++;
      const r = await runWithCuts('backup', runId, 1);
      expect(r.op.run.state).toBe('completed');
      cut += r.cut;
    }
    const after = ['node1', 'node2', 'node3'].flatMap(snapshots);
    expect(after.length - before.length).toBe(runs);
  });

  test('replace a crashed member survives 3 power cuts', async () => {
    lab('crash', 'node3');
    const runId = await start('replace', { failed: 'node3', replacement: 'node4' });
    const { op, cut } = await runWithCuts('replace', runId, 3);
    expect(op.run.state).toBe('completed');
    expect(cut).toBe(3);
    expect(await voters('node1')).toEqual(['node1', 'node2', 'node4']);
  });

  test('migrate survives 3 power cuts', async () => {
    const runId = await start('migrate', { from: 'node4', to: 'node5' });
    const { op, cut } = await runWithCuts('migrate', runId, 3);
    expect(op.run.state).toBe('completed');
    expect(cut).toBe(3);
    expect(await voters('node1')).toEqual(['node1', 'node2', 'node5']);
  });

  test('remove-member: a power cut during the approval wait, bob approves after the boot, 2 more cuts', async () => {
    const victim = await nonLeader(inv, ['node2', 'node5']);
    const runId = await start('remove-member', { node: victim });
    const waiting = await eventually('waiting for approval', async () => (await operation(runId))?.progress?.pendingApproval?.step, 120_000);
    await powerCut('remove-member (approval wait)', runId);
    expect((await operation(runId))?.progress?.pendingApproval?.step).toBe(waiting);
    const { op, cut } = await runWithCuts('remove-member', runId, 2);
    expect(op.run.state).toBe('completed');
    expect(cut).toBe(2);
    expect(await voters('node1')).toEqual(['node1', 'node2', 'node5'].filter((n) => n !== victim).sort());
  });

  test('restore from a backup survives 3 power cuts', async () => {
    const members = await voters('node1');
    const backup = await start('backup', { keep: 20 });
    const made = (await runWithCuts('backup', backup, 0)).op.response as { node: string; path: string };
    const runId = await start('restore', { snapshot: { node: made.node, path: made.path }, members });
    const { op, cut } = await runWithCuts('restore', runId, 3);
    expect(op.run.state).toBe('completed');
    expect(cut).toBe(3);
    expect(await voters(members[0])).toEqual(members);
  });

  test('recover-quorum survives 3 power cuts', async () => {
    const members = await voters('node1');
    const lost = members.find((n) => n !== 'node1')!;
    lab('crash', lost);
    const runId = await start('recover-quorum', { members, waitForNodesSeconds: 600 });
    let started = false;
    const watcher = (async () => {
      await eventually('waiting for the lost node', async () => (await operation(runId))?.progress?.steps.find((s) => s.id === `wait-reachable:${lost}`)?.status === 'running' ? true : undefined, 600_000);
      lab('start', lost);
      started = true;
    })();
    const { op, cut } = await runWithCuts('recover-quorum', runId, 3);
    await watcher;
    expect(started).toBe(true);
    expect(op.run.state).toBe('completed');
    expect(cut).toBe(3);
    expect(await voters('node1')).toEqual(members);
  });

  test('upgrade in place while a run waits for approval: the run completes on the new release; --rollback brings the old one back', async () => {
    const exec = (...argv: string[]) => lab('head', 'exec', ...argv).trim();
    const versionOnHead = () => exec('/usr/local/bin/node', '/opt/etcd-runbooks/bin/etcd-runbooks', '--version');
    const before = versionOnHead();
    // "The next release": the unpacked one under another name and version label (same code: what
    // is measured here is the install's swap and restart, with a run waiting across it).
    const unpacked = exec('sh', '-c', 'ls -d /root/etcd-runbooks-*-linux-x64');
    exec('sh', '-c', `rm -rf /root/next && cp -a ${unpacked} /root/next && echo "0.0.0-next 0123456789ab" > /root/next/dist/VERSION`);
    const members = await voters('node1');
    const victim = await nonLeader(inv, members.filter((n) => n !== 'node1'));
    // Two voters are left by the tests before: any run that waits for approval will do here.
    const runId = await start('remove-member', { node: victim, ...(members.length === 2 ? { allowTwoToOne: true } : {}) });
    const waiting = await eventually('waiting for approval', async () => (await operation(runId))?.progress?.pendingApproval?.step, 120_000);

    // The API's downtime during the upgrade: the longest stretch with no answer, polled every 100 ms.
    let polling = true;
    let lastOk = Date.now();
    let longestGap = 0;
    const poller = (async () => {
      while (polling) {
        const ok = (await call('GET', '/v1/whoami', TOKENS.bob))?.status === 200;
        const now = Date.now();
        if (ok) { longestGap = Math.max(longestGap, now - lastOk); lastOk = now; }
        await sleep(100);
      }
    })();
    const t = Date.now();
    // Not lab(): a synchronous call would stop the poller too, and the gap would be the whole install.
    await new Promise<void>((resolve, reject) => execFile(LAB, ['head', 'reinstall', '/root/next'], { env: LAB_ENV, timeout: 10 * 60_000 }, (e) => (e ? reject(e) : resolve())));
    const installMs = Date.now() - t;
    await eventually('API serving the new release', async () => ((await call('GET', '/v1/whoami', TOKENS.bob))?.status === 200 ? true : undefined), 120_000);
    polling = false;
    await poller;
    console.log(`[upgrade] install.sh from the next release: ${(installMs / 1000).toFixed(1)} s; longest time without an API answer: ${(longestGap / 1000).toFixed(1)} s`);
    expect(versionOnHead()).toBe('0.0.0-next (0123456789ab)');
    expect(exec('cat', '/opt/etcd-runbooks.previous/dist/VERSION')).toBe(before.replace(/^(\S+) \((\S+)\)$/, '$1 $2'));

    // The run waited across the upgrade and goes on under the new release.
    expect((await operation(runId))?.progress?.pendingApproval?.step).toBe(waiting);
    const { op } = await runWithCuts('remove-member', runId, 0);
    expect(op.run.state).toBe('completed');
    expect(await voters('node1')).toEqual(members.filter((n) => n !== victim));

    exec('/opt/etcd-runbooks/deploy/head-node/install.sh', '--rollback');
    await eventually('API serving after the rollback', async () => ((await call('GET', '/v1/whoami', TOKENS.bob))?.status === 200 ? true : undefined), 120_000);
    expect(versionOnHead()).toBe(before);
  });

  test('every run, power cuts and all, has its signed audit record on the head node', async () => {
    // The head node's disk as the host sees it: the upper layer of its overlay.
    const audit = join(LAB_STATE, 'head', 'upper', 'var', 'lib', 'etcd-runbooks', 'audit');
    // The install made the audit key (keys init) and pinned its public half under /etc/etcd-runbooks.
    const publicKey = readFileSync(join(LAB_STATE, 'head', 'upper', 'etc', 'etcd-runbooks', 'audit-signing.pub'), 'utf8');
    expect(runs.length).toBeGreaterThanOrEqual(9);
    for (const r of runs) {
      const { jsonl } = recordPaths(audit, 'lab', r.workflowId, r.runId);
      await eventually(`audit record of ${r.runId}`, async () => (existsSync(`${jsonl}.sig`) ? true : undefined), 60_000);
      expect({ run: r.runId, check: verifyRecordFile(jsonl, publicKey) }).toMatchObject({ run: r.runId, check: { ok: true } });
    }
    // Power cuts and all, the cluster's records form one chain up to the signed head.
    expect(verifyClusterChain(join(audit, 'records', 'lab'), [publicKey], verifyRecordFile)).toMatchObject({ ok: true, problems: [] });
  });
});
