import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { serveCliService } from '../../api/local';
import { AccessSchema } from '../../config/access';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { progressQuery } from '../../workflows';
import { testInventoryFile } from '../api/fixtures';
import { step, withStubWorker } from '../support/stubWorker';
import { eventually } from '../support/temporal';
import { cliAs } from '../support/cliAs';

jest.setTimeout(3 * 60_000);

// Insider finding 2, the CLI: OS users who are not root reach etcd-runbooks only through the local
// CLI service's socket, which learns who they are from the kernel. Real OS users (nobody, daemon)
// run the real CLI (bin/etcd-runbooks, dist/) against the real Temporal dev server and a stub worker.

const member = (n: number, leader = false) => ({ id: `a${n}`, name: `node${n}`, peerURLs: [`https://10.0.0.${n}:2380`], clientURLs: [`https://10.0.0.${n}:2379`], isLearner: false, healthy: true, isLeader: leader });
const activities = {
  inspectCluster: step({ control: 'node1', clusterId: 'c1', leader: 'a1', members: [member(1, true), member(2), member(3)] }),
  inspectNodes: step([{ node: 'node3', spec: { node: 'node3', peerURL: 'https://10.0.0.3:2380' }, reachable: true }]),
  inspectKube: step({ enabled: false, desired: [], nodes: [] }),
  takeSnapshot: step({ node: 'node1', path: '/var/backups/etcd/x.db', revision: 7, sha256: 'f'.repeat(64), sizeBytes: 1 }),
  moveLeaderOff: step({}),
  removeMember: step({ removed: 'a3' }),
  stopMember: step({ service: 'stopped' }),
  moveDataDirAside: step({ moved: '/var/lib/etcd/default.aside' }),
  verifyCluster: step({ state: { members: [member(1, true), member(2)] }, revision: 7 }),
};

describe('the CLI of OS users who are not root, through the local CLI service', () => {
  beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));

  test('nobody (operator) starts a four-eyes remove-member as itself and cannot approve it; daemon (approver) approves as itself; neither reads a key or reaches Temporal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-service-'));
    chmodSync(dir, 0o755);
    const socket = join(dir, 'cli.sock');
    const access = AccessSchema.parse({ osUsers: { nobody: ['operator'], daemon: ['approver'] } });
    await withStubWorker(activities, async (client, taskQueue) => {
      const workflowId = `cli-service-lab-${taskQueue}`;
      const service = new RunService(client, taskQueue, new InventoryFiles([testInventoryFile()]), access, () => workflowId);
      let app: FastifyInstance | undefined;
      try {
        app = await serveCliService(service, () => access, socket);

        // Started by nobody, who follows it: the requester is the uid's user, whatever its environment says.
        const following = cliAs('nobody', socket, 'remove-member', '-i', 'lab', '-n', 'node3');
        const handle = client.workflow.getHandle(workflowId);
        await eventually('the run started', async () => handle.describe().catch(() => undefined));
        const waiting = await eventually('a step waiting for approval', async () => (await handle.query(progressQuery)).pendingApproval);
        expect((await handle.query(progressQuery)).requester).toMatchObject({ principal: 'nobody', method: 'os-user', channel: 'cli' });

        // nobody sees what waits, may not approve (ETCD_RUNBOOKS_ACCESS=/dev/null made no one admin), nor up front.
        expect(await cliAs('nobody', socket, 'approve', '-i', 'lab')).toMatchObject({ code: 0, out: expect.stringContaining(`waiting: ${waiting.step}`) });
        expect(await cliAs('nobody', socket, 'approve', '-i', 'lab', '--step', waiting.step)).toMatchObject({ code: 1, out: expect.stringContaining('nobody (os-user) may not approve steps: needs the approver role') });
        // It holds no key and no way to Temporal of its own.
        const key = process.env.ETCD_RUNBOOKS_SIGNING_KEY!;
        const read = await new Promise<string>((resolve) => execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'cat', key], (e, _o, stderr) => resolve(e ? stderr : 'read')));
        expect(read).toMatch(/Permission denied/);
        expect(await cliAs('nobody', socket, 'history', workflowId)).toMatchObject({ code: 1, out: expect.stringContaining('nobody may not read run histories from this CLI: only root talks to Temporal directly') });
        // The proof directory cannot be listed by a caller (their nonces stay theirs).
        const listed = await new Promise<string>((resolve) => execFile('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', 'ls', join(dir, 'callers')], (e, _o, stderr) => resolve(e ? stderr : 'listed')));
        expect(listed).toMatch(/Permission denied/);

        // daemon approves as daemon, each destructive step; the run goes on and completes.
        expect(waiting.step).toBe('remove:node3');
        expect(await cliAs('daemon', socket, 'approve', '-i', 'lab', '--step', waiting.step)).toMatchObject({ code: 0, out: expect.stringContaining(`approved ${waiting.step} as daemon`) });
        await eventually('the second step waiting', async () => ((await handle.query(progressQuery)).pendingApproval?.step === 'move-aside:node3' ? true : undefined));
        expect(await cliAs('daemon', socket, 'approve', '-i', 'lab', '--step', 'move-aside:node3')).toMatchObject({ code: 0, out: expect.stringContaining('approved move-aside:node3 as daemon') });
        await eventually('the run completed', async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined), 60_000);
        const progress = await handle.query(progressQuery);
        expect(progress.approvals[0]).toMatchObject({ step: waiting.step, by: 'daemon', upFront: false, identity: { principal: 'daemon', method: 'os-user', channel: 'cli' }, proof: { method: 'os-user', channel: 'cli' } });
        // nobody's CLI followed the run through the socket to its end: plan, the wait, the result, the member table.
        const followed = await following;
        expect(followed.code).toBe(0);
        expect(followed.out).toMatch(/started removeMember on lab: workflow cli-service-lab-[\s\S]*plan for removeMember on cluster lab[\s\S]*waiting for approval of remove:node3[\s\S]*removeMember completed:\n  removed: [\s\S]*node1/);
        const runs = JSON.parse((await cliAs('daemon', socket, 'runs', '-i', 'lab', '--json')).out) as Array<{ requester: string; state: string }>;
        expect(runs[0]).toMatchObject({ requester: 'nobody', state: 'completed' });
        expect(readdirSync(join(dir, 'callers'))).toEqual([]); // every proof file removed

        // nobody cancels a run of its own: before its point of no return it is undone.
        // --approval-timeout reaches the run (the step waits 120 s, not the default 3600).
        expect(await cliAs('nobody', socket, 'remove-member', '-i', 'lab', '-n', 'node3', '--no-wait', '--approval-timeout', '120')).toMatchObject({ code: 0 });
        const second = await eventually('the second run waiting', async () => (await client.workflow.getHandle(workflowId).query(progressQuery)).pendingApproval);
        expect(Date.parse(second.expiresAt) - Date.parse(second.requestedAt)).toBe(120_000);
        const cancelled = await cliAs('nobody', socket, 'cancel', '-i', 'lab', '--reason', 'wrong node');
        expect(cancelled).toMatchObject({ code: 0, out: expect.stringMatching(/cancel requested for removeMember on lab[\s\S]*removeMember cancelled: /) });
        expect((await client.workflow.getHandle(workflowId).query(progressQuery)).cancel).toMatchObject({ by: { principal: 'nobody', method: 'os-user', channel: 'cli' }, reason: 'wrong node' });
      } finally {
        await app?.close();
      }
    });
  });
});
