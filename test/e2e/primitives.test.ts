import { execFile, spawnSync } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import YAML from 'yaml';
import { auditSettings } from '../../config/audit';
import { recordPaths } from '../../audit/store';
import { offHostHead } from '../../audit/offHost';
import { verifyDetached } from '../../audit/sign';
import type { RecoveryPoint } from '../../service/recoveryPoint';
import { buildApi } from '../../api/server';
import { Authenticator } from '../../api/auth';
import { DrillAlerts } from '../../chat/alerts';
import { readCommand } from '../../chat/read';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { testAccess, TOKENS } from '../api/fixtures';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { servedRevision } from '../../domain/snapshotRevision';
import { backupCluster, drillRestore, moveLeader, progressQuery, removeMember, expandCluster } from '../../workflows';
import { auditTrail } from '../../audit/trail';
import { errorMessage } from '../../workflows/steps';
import { freshLabWith, INVENTORY, lab, LAB_ENV, onNode, onNodeStatus } from '../support/lab';
import { leaderNode, memberClient, memberNames } from '../support/etcd';
import { eventually, startRun, startWorkerAndClient } from '../support/temporal';
import { approveAs } from '../support/decisions';

jest.setTimeout(10 * 60_000);

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

// Primitives on a real 3-member cluster (4 nodes): refusals first, then the changes.
describe('primitives on the lab (end to end)', () => {
  let inv: Inventory;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>>;
  const clients: Record<string, Etcd3> = {};
  const base = () => ({ cluster: 'lab', inventoryDigest: inventoryDigest(INVENTORY) });

  beforeAll(async () => {
    inv = freshLabWith(4, 3);
    for (const n of ['node1', 'node2', 'node3']) clients[n] = memberClient(inv, n);
    env = await startWorkerAndClient([INVENTORY]);
  });
  afterAll(async () => {
    Object.values(clients).forEach((c) => c.close());
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('remove-member refuses the leader and changes nothing', async () => {
    const leader = await leaderNode(inv, clients);
    const h = await startRun(env, removeMember, { ...base(), node: leader, approvedBy: 'e2e' });
    expect(errorMessage(await h.result().catch((e) => e))).toMatch(/pre-flight refused: member node\d is the leader; move leadership/);
    expect(await memberNames(clients.node1)).toEqual(['node1', 'node2', 'node3']);
  });

  test('remove-member refuses to break quorum while another member is down', async () => {
    const leader = await leaderNode(inv, clients);
    const [down, victim] = ['node1', 'node2', 'node3'].filter((n) => n !== leader);
    lab('crash', down);
    try {
      const h = await startRun(env, removeMember, { ...base(), node: victim, approvedBy: 'e2e' });
      expect(errorMessage(await h.result().catch((e) => e))).toMatch(/would leave 1 healthy of 2 voting members, below the quorum of 2/);
      expect(await memberNames(clients[leader])).toEqual(['node1', 'node2', 'node3']);
    } finally {
      lab('start', down);
    }
    await eventually('the crashed member back', async () => ((await clients[down].maintenance.status()).leader !== '0' ? true : undefined));
  });

  test('bad inputs get clear errors and change nothing', async () => {
    const metachar = await startRun(env, removeMember, { ...base(), node: 'node2;reboot', approvedBy: 'e2e' });
    expect(errorMessage(await metachar.result().catch((e) => e))).toMatch(/invalid removeMember input: node: must be lowercase/);
    const unknown = await startRun(env, removeMember, { ...base(), node: 'node9', approvedBy: 'e2e' });
    const started = Date.now();
    expect(errorMessage(await unknown.result().catch((e) => e))).toMatch(/unknown node "node9" in cluster lab/);
    expect(Date.now() - started).toBeLessThan(10_000); // not retried
    const present = await startRun(env, expandCluster, { ...base(), add: ['node2'], allowEvenSize: true });
    expect(await present.result()).toMatchObject({ outcome: 'nothing-to-do', alreadyVoters: ['node2'] });
    expect(await memberNames(clients.node1)).toEqual(['node1', 'node2', 'node3']);
  });

  test('backup: verified snapshots named by cluster, member, revision and time; retention keeps the newest', async () => {
    const results = [];
    for (let i = 0; i < 3; i++) {
      await clients.node1.put(`backup/key-${i}`).value('x');
      // back to back: stamps to the millisecond give each run its own file
      results.push(await (await startRun(env, backupCluster, { ...base(), keep: 2 })).result());
    }
    for (const b of results) expect(b.path).toMatch(/^\/var\/backups\/etcd-runbooks\/lab-node\d-rev\d+-\d{8}T\d{9}Z\.db$/);
    expect(new Set(results.map((b) => b.path)).size).toBe(3);
    expect(results[2].pruned).toEqual([results[0].path]);
    const listed = onNode(results[2].node, 'ls -1 /var/backups/etcd-runbooks/lab-node*-rev*.db').trim().split('\n');
    expect(listed.sort()).toEqual([results[1].path, results[2].path].sort());
    expect(results[2].revision).toBeGreaterThan(results[1].revision);
  });

  test('a backup is copied off the etcd hosts to the backup host, SHA-256 checked, with that host\'s retention', async () => {
    // The same cluster with a backup host (node4's SSH entry under a name of its own), on a worker of its own.
    const dir = mkdtempSync(join(tmpdir(), 'offnode-'));
    const variant = join(dir, 'inventory.yaml');
    const doc = YAML.parse(readFileSync(INVENTORY, 'utf8')) as { nodes: Array<{ name: string; ssh: unknown }> };
    writeFileSync(variant, YAML.stringify({ ...doc, backupHost: { name: 'vault', ssh: doc.nodes.find((n) => n.name === 'node4')!.ssh, dir: '/var/backups/offnode', keep: 2 } }));
    const withHost = await startWorkerAndClient([variant]);
    try {
      const results = [];
      for (let i = 0; i < 3; i++) {
        results.push(await (await startRun(withHost, backupCluster, { cluster: 'lab', inventoryDigest: inventoryDigest(variant), keep: 5 })).result());
      }
      for (const b of results) {
        expect(b.offNode).toMatchObject({ configured: true, host: 'vault', path: `/var/backups/offnode/${b.path.split('/').pop()}` });
        expect(b.offNode?.copiedBytes).toBe(b.sizeBytes);
        expect(onNode(b.node, `sha256sum ${b.path}`).split(' ')[0]).toBe(b.offNode?.sha256);
      }
      expect(results[2].offNode?.pruned).toEqual([results[0].offNode?.path]);
      // Files only: audit/ there holds the chain heads (below).
      const kept = onNode('node4', 'find /var/backups/offnode -maxdepth 1 -type f').trim().split('\n');
      const newest = [results[1].offNode?.path, results[2].offNode?.path];
      expect(kept.sort()).toEqual([...newest, ...newest.map((p) => `${p}.meta.json`)].sort());
      expect(onNode('node4', `sha256sum ${results[2].offNode?.path}`).split(' ')[0]).toBe(results[2].offNode?.sha256);

      // A restore drill of the newest copy passes: same revision, keys and KV hash as the backup held.
      const drill = await (await startRun(withHost, drillRestore, { cluster: 'lab', inventoryDigest: inventoryDigest(variant) })).result();
      console.log(`restore drill of a ${(drill.sizeBytes / 2 ** 20).toFixed(1)} MiB copy: ${(drill.totalMs / 1000).toFixed(1)} s (restore and start ${(drill.restoreMs / 1000).toFixed(1)} s)`);
      expect(drill).toMatchObject({ passed: true, backup: results[2].offNode?.path, expected: { revision: results[2].revision, keys: results[2].keys, hashKV: results[2].hashKV } });
      // Run alone, the cluster never had a write: the backup's revision is 0 and the restored member serves 1.
      expect(drill.found).toEqual({ ...drill.expected, revision: servedRevision(drill.expected!.revision) });
      expect(onNodeStatus('node4', 'systemctl is-active --quiet etcd-runbooks-drill || test -e /var/tmp/etcd-runbooks-drill')).not.toBe(0);
      // From the CLI: a passing drill sets the recovery point `status` shows.
      // Not spawnSync: the worker runs in this process, and a blocked event loop would stall the run.
      const cli = (...args: string[]) => new Promise<{ status: number | null; stdout: string }>((resolve) => {
        execFile(join(__dirname, '..', '..', 'bin', 'etcd-runbooks'), args, { encoding: 'utf8', env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: withHost.taskQueue } },
          (e, stdout) => resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout }));
      });
      expect(await cli('drill', '-i', variant)).toMatchObject({ status: 0 });
      const point = (JSON.parse((await cli('status', '-i', variant, '--json')).stdout) as { recoveryPoint: RecoveryPoint }).recoveryPoint;
      expect(point).toEqual({ passed: expect.objectContaining({ backup: `vault:${results[2].offNode?.path}` }) });
      // The API shows the same recovery point; chat's `status` too, and a failed drill alerts there.
      const service = new RunService(withHost.client, withHost.taskQueue, new InventoryFiles([variant]), testAccess());
      const api = await buildApi({ service, auth: new Authenticator(testAccess()) });
      const getPoint = async () => api.inject({ url: '/v1/clusters/lab/recovery-point', headers: { authorization: `Bearer ${TOKENS.viewer}` } });
      const passed = { ...point.passed, ageSeconds: expect.any(Number) }; // the age grows as the test runs
      expect((await getPoint()).json()).toEqual({ passed });
      const viewer = { principal: 'vic', method: 'token' as const, channel: 'api' as const, roles: ['viewer' as const] };
      const alerts: string[] = [];
      const watch = new DrillAlerts(service, viewer, async (t) => { alerts.push(t); }, { intervalMs: 300, lookBackMs: 0 });
      watch.start();
      // A corrupted copy fails the drill, the run says why, and `status` raises the alert.
      onNode('node4', `printf 'XXXX' | dd of=${results[2].offNode?.path} bs=1 seek=4096 conv=notrunc status=none`);
      const bad = await (await startRun(withHost, drillRestore, { cluster: 'lab', inventoryDigest: inventoryDigest(variant) })).result().catch((e: unknown) => e);
      expect(errorMessage(bad)).toMatch(/restore drill FAILED for vault:\/var\/backups\/offnode\/.*integrity: .*SHA-256/);
      expect(await cli('drill', '-i', variant)).toMatchObject({ status: 1 });
      const status = await cli('status', '-i', variant);
      expect(status).toMatchObject({ status: 3, stdout: expect.stringMatching(/ALERT: the newest restore drill FAILED at .*integrity/) });
      expect(status.stdout).toContain(`recovery point: the backup taken ${point.passed?.takenAt}`);
      const fromApi = await getPoint();
      expect(fromApi.statusCode).toBe(200);
      expect(fromApi.json()).toEqual({ passed, failed: { drilledAt: expect.any(String), message: expect.stringMatching(/restore drill FAILED for vault:.*integrity/) } });
      expect(await readCommand(service, viewer, 'status', 'lab')).toMatch(/recovery point: the backup taken .*\nALERT: the newest restore drill FAILED at .*integrity/);
      // The CLI's failed drill alerts once. The run started directly above carries no cluster attribute; every run started through the CLI, API, chat or a schedule does.
      await eventually('drill alert', async () => (alerts.length ? true : undefined), 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      await watch.stop();
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatch(/^ALERT: restore drill of lab FAILED at .*integrity/);
      await api.close();

      // The worker copies the cluster's signed chain head to the backup host after its records
      // move (audit/offHost.ts), over SSH: the last line there names a record here, signed.
      const { dir: auditDir, keyFile } = auditSettings();
      const line = await eventually('the chain head on the backup host', async () => onNode('node4', 'tail -n 1 /var/backups/offnode/audit/chain-heads-lab.jsonl 2>/dev/null || true').trim() || undefined, 60_000);
      const copied = offHostHead(line);
      expect(verifyDetached(JSON.stringify(copied.head), copied.signature, createPublicKey(readFileSync(`${keyFile}.pub`))).ok).toBe(true);
      expect(sha256Of(join(auditDir, 'records', 'lab', copied.head.file))).toBe(copied.head.sha256);
      expect(onNode('node4', 'stat -c %a /var/backups/offnode/audit/chain-heads-lab.jsonl').trim()).toBe('600');
    } finally {
      await withHost.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('move-leader makes a follower the leader', async () => {
    const leader = await leaderNode(inv, clients);
    const target = ['node1', 'node2', 'node3'].find((n) => n !== leader)!;
    expect(await (await startRun(env, moveLeader, { ...base(), to: target })).result()).toMatchObject({ moved: true });
    expect(await leaderNode(inv, clients)).toBe(target);
  });

  test('remove-member waits for approval of each destructive step and records who approved', async () => {
    const leader = await leaderNode(inv, clients);
    const victim = ['node1', 'node2', 'node3'].find((n) => n !== leader)!;
    const h = await startRun(env, removeMember, { ...base(), node: victim });
    for (const step of [`remove:${victim}`, `move-aside:${victim}`]) {
      await eventually(`approval request for ${step}`, async () => ((await h.query(progressQuery)).pendingApproval?.step === step ? true : undefined));
      await expect(approveAs(h, 'remove:node9', { principal: 'mallory' })).rejects.toThrow();
      expect((await approveAs(h, step, { principal: 'alice' })).by).toBe('alice');
    }
    const r = await h.result();
    expect((await h.query(progressQuery)).steps.find((s) => s.id === 'verify')?.status).toBe('done'); // the patched() branch
    expect(r.approvals.map((a) => [a.step, a.by, a.upFront])).toEqual([[`remove:${victim}`, 'alice', false], [`move-aside:${victim}`, 'alice', false]]);
    expect(await memberNames(clients[leader])).toEqual(['node1', 'node2', 'node3'].filter((n) => n !== victim));
    expect(onNodeStatus(victim, 'systemctl is-active --quiet etcd')).not.toBe(0);
    expect(onNode(victim, 'ls -d /var/lib/etcd/default.aside-remove-*')).toMatch(/aside-remove-[0-9a-f]{8}/);

    const trail = auditTrail((await h.fetchHistory()).events ?? []);
    expect(trail.filter((row) => row.step === 'approval').map((row) => row.output)).toEqual(['approved by alice', 'approved by alice']);
    const removal = trail.find((row) => row.step === 'removeMember' && row.what.includes('member remove'));
    expect(removal).toMatchObject({ exitCode: 0, outcome: 'ok' });
    expect(trail.every((row) => !/BEGIN .*PRIVATE KEY/.test(row.output + row.what))).toBe(true);

    // The worker writes the run's signed audit record once it has closed; the CLI verifies it.
    const { dir, keyFile } = auditSettings();
    const file = recordPaths(dir, 'lab', h.workflowId, h.firstExecutionRunId).jsonl;
    await eventually('the audit record', async () => (existsSync(`${file}.sig`) ? true : undefined), 60_000);
    const verify = (f: string) => spawnSync(join(__dirname, '..', '..', 'bin', 'etcd-runbooks'), ['audit', 'verify', f, '--public-key', `${keyFile}.pub`], { encoding: 'utf8' });
    expect(verify(file)).toMatchObject({ status: 0, stdout: expect.stringMatching(/^ok: \d+ events, hash chain intact/) });
    const events = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ type: 'run', runbook: 'removeMember', input: { node: victim } });
    expect(events.filter((e) => e.type === 'approval').map((e) => [e.step, e.by])).toEqual([[`remove:${victim}`, 'alice'], [`move-aside:${victim}`, 'alice']]);
    expect(events.find((e) => e.type === 'command' && (e.argv as string[]).includes('remove'))).toMatchObject({ step: 'removeMember', exitCode: 0, source: 'journal' });
    expect(events.filter((e) => e.type === 'evidence').map((e) => e.step)).toEqual(expect.arrayContaining(['inspectCluster', 'verifyCluster']));
    expect(events.at(-1)).toMatchObject({ type: 'outcome', status: 'completed', runOutcome: 'completed' });
    const tampered = `${file}.tampered.jsonl`;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2].replace(/"exitCode":\d+/, '"exitCode":0').replace(/"node":"node\d"/, '"node":"node9"');
    writeFileSync(tampered, lines.join('\n'));
    writeFileSync(`${tampered}.sig`, readFileSync(`${file}.sig`));
    expect(verify(tampered)).toMatchObject({ status: 1, stdout: expect.stringMatching(/^FAILED: line 4: prev does not match/) });
    rmSync(tampered);
    rmSync(`${tampered}.sig`);
  });

  test('a backup schedule takes a backup every interval, keeps the newest, and each run gets its audit record', async () => {
    const cli = (...args: string[]) => spawnSync(join(__dirname, '..', '..', 'bin', 'etcd-runbooks'), args, { encoding: 'utf8', env: { ...process.env, ETCD_RUNBOOKS_TASK_QUEUE: env.taskQueue } });
    expect(cli('schedule', 'backup', '-i', INVENTORY, '--every', '5s')).toMatchObject({ status: 1, stderr: expect.stringContaining('every: an interval like 90s') });
    expect(cli('schedule', 'backup', '-i', INVENTORY, '--every', '10s', '--keep', '2')).toMatchObject({ status: 0, stdout: expect.stringContaining('created schedule etcd-runbooks-backup-lab') });
    try {
      const query = `TaskQueue = "${env.taskQueue}" AND WorkflowType = "backupCluster" AND ExecutionStatus = "Completed"`;
      const runs = await eventually('three scheduled backups', async () => {
        const found = [];
        for await (const w of env.client.workflow.list({ query })) if (w.workflowId.startsWith('etcd-runbooks-backup-lab-')) found.push(w);
        return found.length >= 3 ? found : undefined;
      }, 120_000);
      expect(cli('schedule', 'pause', 'etcd-runbooks-backup-lab')).toMatchObject({ status: 0 });
      const listed = JSON.parse(cli('schedule', 'list', '--json').stdout) as Array<{ schedule: string; paused: boolean; actions: number }>;
      expect(listed.find((x) => x.schedule === 'etcd-runbooks-backup-lab')).toMatchObject({ paused: true, every: '10s' });
      const results = await Promise.all(runs.map(async (w) => ({ closed: w.closeTime!.getTime(), r: await env.client.workflow.getHandle(w.workflowId, w.runId).result() as { node: string; path: string } })));
      results.sort((a, b) => a.closed - b.closed);
      const newest = results.slice(-2).map((x) => x.r);
      if (newest[0].node === newest[1].node) {
        const kept = onNode(newest[1].node, 'ls -1 /var/backups/etcd-runbooks/lab-node*-rev*.db').trim().split('\n');
        expect(kept.sort()).toEqual(newest.map((b) => b.path).sort());
      }
      const { dir, keyFile } = auditSettings();
      for (const w of runs) {
        const file = recordPaths(dir, 'lab', w.workflowId, w.runId).jsonl;
        await eventually(`the audit record of ${w.workflowId}`, async () => (existsSync(`${file}.sig`) ? true : undefined), 60_000);
        expect(cli('audit', 'verify', file, '--public-key', `${keyFile}.pub`)).toMatchObject({ status: 0 });
      }
    } finally {
      expect(cli('schedule', 'delete', 'etcd-runbooks-backup-lab')).toMatchObject({ status: 0 });
    }
  });

  test('`etcd-runbooks lab status` finds the lab script whether it runs from the build (CI) or the sources', () => {
    const r = spawnSync(join(__dirname, '..', '..', 'bin', 'etcd-runbooks'), ['lab', 'status'], { encoding: 'utf8', env: LAB_ENV });
    const node1 = inv.nodes.find((n) => n.name === 'node1')!.ssh.host;
    // node1's address proves it reported this worker's lab, not another's.
    expect(r).toMatchObject({ status: 0, stdout: expect.stringMatching(new RegExp(`^node1\\s+${node1.replace(/\./g, '\\.')}\\s+running`, 'm')) });
  });
});
