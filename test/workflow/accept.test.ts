import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { serveCliService } from '../../api/local';
import { AccessSchema } from '../../config/access';
import type { WatchProbe, WatchedMember } from '../../domain/watch';
import type { Actor } from '../../domain/identity';
import { watchId } from '../../service/ids';
import { InventoryFiles } from '../../service/inventories';
import { RunService } from '../../service/runs';
import { watchCluster } from '../../workflows';
import { temporalFacts } from '../../activities/etcd/watchTemporalFacts';
import { testInventoryFile } from '../api/fixtures';
import { cliAs } from '../support/cliAs';
import { withStubWorker } from '../support/stubWorker';
import { eventually } from '../support/temporal';

jest.setTimeout(2 * 60_000);

// Issue "watch every cluster", accept: a person starts the proposed runbook in one step, as
// themselves, through the service every front end uses; the proposal shows who accepted it.
// The real Temporal server, a real watch workflow with a scripted probe, the real RunService.

const m = (node: string, etcd: WatchedMember['etcd'], ssh = true): WatchedMember => ({ node, learner: false, etcd, ssh });
const actor = (principal: string, roles: Actor['roles']): Actor => ({ principal, method: 'oidc', channel: 'api', roles });
const alice = actor('alice', ['operator', 'approver']);
const carol = actor('carol', ['viewer']);

/** node2 silent (etcd and SSH) until `heal()`; probes 15 s apart on the probe's own clock. */
function script() {
  let n = 0;
  let healed = false;
  const probeWatch = async () => {
    n++;
    const lost = n >= 2 && !healed;
    const probe: WatchProbe = { at: n * 15_000, members: [m('node1', 'serving'), m('node2', lost ? 'silent' : 'serving', !lost), m('node3', 'serving')], spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [] };
    return { result: { probe, memberNodes: ['node1', 'node2', 'node3'] }, commands: [], commandCount: 0 };
  };
  return { probeWatch, heal: () => { healed = true; } };
}

const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { kind?: string; message: string }) => `${e.kind}: ${e.message}`);

beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));

test('alice accepts the replace proposal: replace starts as her, the proposal names her and the run; a viewer, an unknown id and a resolved proposal are refused', async () => {
  const s = script();
  const cluster = `accept${process.pid}x${Date.now().toString(36)}`;
  await withStubWorker({ probeWatch: s.probeWatch }, async (client, taskQueue) => {
    const runId = `accept-run-${cluster}`;
    const service = new RunService(client, taskQueue, new InventoryFiles([testInventoryFile(cluster)]), AccessSchema.parse({}), () => runId);
    const watch = await client.workflow.start(watchCluster, { taskQueue, workflowId: watchId(cluster), args: [{ cluster, intervalSeconds: 1, probesPerRun: 100 }] });
    try {
      const open = await eventually('proposal open', async () => (await service.proposals(carol, cluster)).proposals.find((p) => p.status === 'open'), 60_000);
      expect(open).toMatchObject({ id: 'member-silent:node2@30000', runbook: 'replace', fields: { failed: 'node2' } });

      expect(await refusal(service.accept(carol, cluster, open.id))).toBe('forbidden: carol (oidc) may not accept proposals: needs the operator role');
      expect(await refusal(service.accept(alice, cluster, 'member-silent:node9@15000'))).toBe(`not-found: no proposal member-silent:node9@15000 on ${cluster}; open: member-silent:node2@30000`);

      const first = await service.accept(alice, cluster, open.id);
      expect(first).toMatchObject({ created: true, proposal: { id: open.id }, operation: { run: { workflow: 'replaceMember', requester: 'alice', cluster } } });
      const desc = await client.workflow.getHandle(runId).describe();
      expect(desc.memo).toMatchObject({ proposal: open.id, runbook: 'replace', requester: { principal: 'alice', channel: 'api' } });
      // Accepting again (a double click, a retried request) is the same run.
      const again = await service.accept(alice, cluster, open.id);
      expect(again).toMatchObject({ created: false, operation: { run: { runId: first.operation.run.runId } } });

      const shown = (await service.proposals(carol, cluster)).proposals.find((p) => p.id === open.id);
      expect(shown?.accepted).toEqual({ by: 'alice', runId: first.operation.run.runId, workflow: 'replaceMember', state: 'running' });
      // What the watch's probe reads of Temporal (activities/etcd/watchTemporalFacts.ts): the run going on
      // (new proposals are held), and with an objective in the inventory, no recovery point yet.
      const inv = new InventoryFiles([testInventoryFile(cluster)]).load(cluster).inv;
      const facts = await eventually('the run is visible', async () => { const f = await temporalFacts({ client, taskQueue }, { ...inv, recoveryPointObjectiveHours: 24 }); return f.running ? f : undefined; }, 30_000);
      expect(facts).toEqual({ running: { workflow: 'replaceMember', since: expect.any(Number) }, recovery: { objectiveHours: 24 } });
      expect(await temporalFacts({ client, taskQueue: `${taskQueue}-other` }, inv)).toEqual({});
      await client.workflow.getHandle(runId).terminate('test: the stub worker has no replace activities');

      s.heal();
      await eventually('resolved', async () => ((await service.proposals(carol, cluster)).proposals[0]?.status === 'resolved' ? true : undefined), 60_000);
      expect(await refusal(service.accept(alice, cluster, open.id))).toMatch(new RegExp(`^conflict: proposal ${open.id} on ${cluster} was resolved at .*: the condition cleared, nothing to start$`));
    } finally {
      await watch.terminate('test done');
      await client.workflow.getHandle(runId).terminate('test done').catch(() => undefined);
    }
  });
});

test('accept with no watch running is refused as not found', async () => {
  await withStubWorker({}, async (client, taskQueue) => {
    const cluster = `nowatch${process.pid}x${Date.now().toString(36)}`;
    const service = new RunService(client, taskQueue, new InventoryFiles([testInventoryFile(cluster)]), AccessSchema.parse({}), () => `x-${cluster}`);
    expect(await refusal(service.accept(alice, cluster, 'quorum-lost@15000'))).toBe(`not-found: no watch runs for ${cluster}: nothing is proposed (the worker keeps one per cluster with ETCD_RUNBOOKS_WATCH=on)`);
  });
});

// As deployed for people who are not root: the CLI (bin/etcd-runbooks, dist/) of OS user nobody
// through the local CLI service's socket, which learns who it is from the kernel.
test('nobody (an operator OS user) reads the proposals and accepts one with the CLI: replace starts as nobody (os-user)', async () => {
  const s = script();
  const cluster = `cliaccept${process.pid}x${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), 'accept-cli-'));
  chmodSync(dir, 0o755);
  const socket = join(dir, 'cli.sock');
  const access = AccessSchema.parse({ osUsers: { nobody: ['operator'] } });
  await withStubWorker({ probeWatch: s.probeWatch }, async (client, taskQueue) => {
    const runId = `accept-cli-${cluster}`;
    const service = new RunService(client, taskQueue, new InventoryFiles([testInventoryFile(cluster)]), access, () => runId);
    const watch = await client.workflow.start(watchCluster, { taskQueue, workflowId: watchId(cluster), args: [{ cluster, intervalSeconds: 1, probesPerRun: 100 }] });
    let app: FastifyInstance | undefined;
    try {
      app = await serveCliService(service, () => access, socket);
      const listed = await eventually('proposal open', async () => {
        const r = await cliAs('nobody', socket, 'proposals', '-i', cluster, '--json');
        return r.code === 3 ? r : undefined; // exit 3: something is open
      }, 60_000);
      const id = (JSON.parse(listed.out) as { proposals: Array<{ id: string; status: string }> }).proposals.find((p) => p.status === 'open')!.id;
      expect(id).toBe('member-silent:node2@30000');
      const accepted = await cliAs('nobody', socket, 'accept', id, '-i', cluster, '--no-wait');
      expect(accepted).toMatchObject({ code: 0, out: expect.stringContaining(`accepted ${id} as nobody\nstarted replaceMember on ${cluster}`) });
      const desc = await client.workflow.getHandle(runId).describe();
      expect(desc.memo).toMatchObject({ proposal: id, requester: { principal: 'nobody', method: 'os-user', channel: 'cli' } });
    } finally {
      await app?.close();
      await watch.terminate('test done');
      await client.workflow.getHandle(runId).terminate('test done').catch(() => undefined);
    }
  });
});
