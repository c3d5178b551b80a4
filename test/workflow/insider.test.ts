import type { RemoveMemberResult } from '../../workflows/removeMember';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadTrust } from '../../config/trust';
import { inputDigest, trustDigest } from '../../domain/decision';
import type { RunbookProgress } from '../../domain/progress';
import { DecisionSigner } from '../../service/signer';
import { approveUpdate, cancelUpdate, progressQuery, rejectUpdate, removeMember } from '../../workflows';
import { approveAs, cancelAs, decisionOn, E2E_ACTOR, signedInput } from '../support/decisions';
import { step, withStubWorker } from '../support/stubWorker';
import { eventually } from '../support/temporal';

jest.setTimeout(2 * 60_000);

// Insider findings 1 and 2 at the workflow, on the real Temporal server: whoever reaches Temporal
// (a CLI user before 0.6, the service's own client) sends updates and cancels straight to a run.
// Only decisions signed by a front end the run trusts may move it; everything else leaves it waiting.

const member = (n: number, leader = false) => ({ id: `a${n}`, name: `node${n}`, peerURLs: [`https://10.0.0.${n}:2380`], clientURLs: [`https://10.0.0.${n}:2379`], isLearner: false, healthy: true, isLeader: leader });
const removed: string[] = [];
const activities = {
  inspectCluster: step({ members: [member(1, true), member(2), member(3)], control: 'node1' }),
  inspectNodes: step([{ node: 'node3', spec: { node: 'node3', peerURL: 'https://10.0.0.3:2380' }, reachable: true }]),
  inspectKube: step({ enabled: false, desired: [], nodes: [] }),
  takeSnapshot: step({ node: 'node1', path: '/var/backups/etcd/x.db', revision: 7, sha256: 'f'.repeat(64), sizeBytes: 1 }),
  moveLeaderOff: step({}),
  removeMember: async () => { removed.push('node3'); return { result: { removed: 'a3' }, commands: [], commandCount: 0 }; },
  stopMember: step({ service: 'stopped' }),
  moveDataDirAside: step({ moved: '/var/lib/etcd/default.aside' }),
  verifyCluster: step({ state: { members: [member(1, true), member(2)] }, revision: 7 }),
};

const alice = { principal: 'alice', method: 'oidc' as const, channel: 'api' as const, roles: ['operator' as const, 'approver' as const] };
const bob = { principal: 'bob', method: 'slack' as const, channel: 'slack' as const, roles: ['approver' as const] };

/** The validator's message of a refused update ('accepted' when it was not refused). */
const refusal = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { cause?: { message?: string }; message: string }) => e.cause?.message ?? e.message);

async function waitingOn(h: WorkflowHandle, stepId: string): Promise<RunbookProgress> {
  return eventually(`${stepId} waiting`, async () => {
    const p = await h.query(progressQuery);
    return p.pendingApproval?.step === stepId ? p : undefined;
  });
}

/** alice (operator + approver) starts a four-eyes remove-member of node3 through the tests' front end. */
async function startAsAlice(client: Client, taskQueue: string) {
  const workflowId = `insider-${Date.now()}-${Math.random().toString(16).slice(2, 6)}`;
  const input = signedInput('removeMember', workflowId, { cluster: 'lab', node: 'node3', requester: alice, fourEyes: true });
  return client.workflow.start(removeMember, { taskQueue, workflowId, args: [input as never] });
}

describe('insider: decisions sent straight to Temporal', () => {
  beforeAll(() => Runtime.install({ logger: new DefaultLogger('WARN') }));

  test('a start with no signed decision, with control fields of its own, or signed for other fields, is refused before any activity', async () => {
    const called: string[] = [];
    const digests: unknown[] = [];
    const spy = Object.fromEntries(Object.entries(activities).map(([k, f]) => [k, async (input: { trustDigest?: string }) => {
      called.push(k);
      digests.push(input?.trustDigest);
      return (f as (x: unknown) => unknown)(input);
    }]));
    await withStubWorker(spy, async (client, taskQueue) => {
      const unsigned = await client.workflow.start(removeMember, { taskQueue, workflowId: `insider-unsigned-${Date.now()}`, args: [{ cluster: 'lab', node: 'node3', approvedBy: 'alice' }] });
      await expect(unsigned.result()).rejects.toMatchObject({ cause: { type: 'Unauthorized', message: expect.stringMatching(/approvedBy: set only by the signed start decision/) } });
      const bare = await client.workflow.start(removeMember, { taskQueue, workflowId: `insider-bare-${Date.now()}`, args: [{ cluster: 'lab', node: 'node3' }] });
      await expect(bare.result()).rejects.toMatchObject({ cause: { type: 'Unauthorized', message: expect.stringMatching(/trust: no trusted keys pinned/) } });
      // A decision signed for node2 does not start a removal of node3.
      const id = `insider-swap-${Date.now()}`;
      const signed = signedInput('removeMember', id, { cluster: 'lab', node: 'node2' });
      const swapped = await client.workflow.start(removeMember, { taskQueue, workflowId: id, args: [{ ...signed, node: 'node3' } as never] });
      await expect(swapped.result()).rejects.toMatchObject({ cause: { type: 'Unauthorized', message: expect.stringMatching(/signed for other fields/) } });
      expect(called).toEqual([]);
      // Keys of one's own, pinned in the input, pass the workflow's checks; every activity is then
      // asked with their digest, which a real worker compares with its trust file and refuses
      // (test/unit/trustCheck.test.ts).
      const own = DecisionSigner.generate().signer;
      const id2 = `insider-own-${Date.now()}`;
      const fields = { cluster: 'lab', node: 'node3' };
      const forgedTrust = { keys: [own.trustEntry(['api' as const])] };
      const authority = own.sign({ ...E2E_ACTOR, principal: 'mallory' }, { action: 'start', workflowId: id2, runbook: 'removeMember', cluster: 'lab', fourEyes: false, input: inputDigest(fields) });
      const h = await client.workflow.start(removeMember, { taskQueue, workflowId: id2, args: [{ ...fields, authority, trust: forgedTrust } as never] });
      await waitingOn(h, 'remove:node3');
      expect(new Set(digests)).toEqual(new Set([trustDigest(forgedTrust)]));
      expect(trustDigest(forgedTrust)).not.toBe(loadTrust().digest);
      await h.terminate('test done');
    });
  });

  test('forged, unsigned and self approvals are refused and the run stays waiting; a native cancel does nothing; bob approves', async () => {
    removed.length = 0;
    await withStubWorker(activities, async (client, taskQueue) => {
      const h = await startAsAlice(client, taskQueue);
      await waitingOn(h, 'remove:node3');
      // 1. The pre-0.6 update shape, naming another approver (the lab proof of finding 2).
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: 'remove:node3', by: 'bob', approver: bob }] }))).toMatch(/this run takes only a signed decision/);
      // 2. Signed by a key the run does not trust (a CLI user's own).
      const mallory = DecisionSigner.generate().signer;
      const forged = mallory.sign(bob, { action: 'approve', workflowId: h.workflowId, runId: h.firstExecutionRunId, runbook: 'removeMember', cluster: 'lab', step: 'remove:node3' });
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: 'remove:node3', decision: forged }] }))).toMatch(/which this run does not trust/);
      // 3. A trusted signature whose claims were edited to name bob.
      const real = await decisionOn(h, 'approve', alice, { step: 'remove:node3' });
      const edited = { ...real, claims: real.claims.replace('"principal":"alice"', '"principal":"bob"') };
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: 'remove:node3', decision: edited }] }))).toMatch(/signature does not match/);
      // 4. alice herself, properly signed: four-eyes.
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: 'remove:node3', decision: real }] }))).toMatch(/four-eyes: alice requested this run/);
      // 5. An operator without the approver role.
      expect(await refusal(approveAs(h, 'remove:node3', { principal: 'mallory', roles: ['operator'] }))).toMatch(/mallory does not have the approver role/);
      // 6. Unsigned reject and cancel updates, and a Temporal cancel request.
      expect(await refusal(h.executeUpdate(rejectUpdate, { args: [{ step: 'remove:node3', by: { ...bob }, reason: 'x' }] }))).toMatch(/signed decision/);
      expect(await refusal(h.executeUpdate(cancelUpdate, { args: [{ decision: forged }] }))).toMatch(/cancel decision|does not trust/);
      await h.cancel();
      await new Promise((r) => setTimeout(r, 1500));
      const still = await h.query(progressQuery);
      expect([still.outcome, still.pendingApproval?.step, (await h.describe()).status.name]).toEqual(['waiting-approval', 'remove:node3', 'RUNNING']);
      expect(removed).toEqual([]);
      // bob, through the Slack front end, approves both steps; the record keeps the proof.
      const first = await approveAs(h, 'remove:node3', bob);
      expect(first).toMatchObject({ by: 'bob', identity: { principal: 'bob', method: 'slack', channel: 'slack' }, proof: { method: 'slack', channel: 'slack' } });
      await waitingOn(h, 'move-aside:node3');
      await approveAs(h, 'move-aside:node3', bob);
      const r = (await h.result()) as RemoveMemberResult;
      expect(r.approvals.map((a) => `${a.step} by ${a.by}`)).toEqual(['remove:node3 by bob', 'move-aside:node3 by bob']);
      expect(removed).toEqual(['node3']);
    });
  });

  test('a captured approval cannot approve another step; a signed cancel by the requester stops the run, recorded with who and why', async () => {
    removed.length = 0;
    await withStubWorker(activities, async (client, taskQueue) => {
      const h = await startAsAlice(client, taskQueue);
      await waitingOn(h, 'remove:node3');
      const decision = await decisionOn(h, 'approve', bob, { step: 'remove:node3' });
      await h.executeUpdate(approveUpdate, { args: [{ step: 'remove:node3', decision }] });
      await waitingOn(h, 'move-aside:node3');
      // The decision seen in the history, sent again for the step that now waits.
      expect(await refusal(h.executeUpdate(approveUpdate, { args: [{ step: 'move-aside:node3', decision }] }))).toMatch(/for step remove:node3, not move-aside:node3/);
      await cancelAs(h, 'changed my mind', alice);
      const err = await h.result().catch((e) => e);
      const p = await h.query(progressQuery);
      expect(p.cancel).toMatchObject({ by: { principal: 'alice', channel: 'api' }, reason: 'changed my mind' });
      expect(err.cause?.type).toBe('RunCancelled');
    });
  });
});

// A worker runs many workflows in one V8 context, where module state is shared: one run's signed
// cancel once reached the body of the run started after it.
test('a signed cancel stops its own run, not another waiting in the same worker', async () => {
  await withStubWorker(activities, async (client, taskQueue) => {
    const a = await startAsAlice(client, taskQueue);
    await waitingOn(a, 'remove:node3');
    const b = await startAsAlice(client, taskQueue);
    await waitingOn(b, 'remove:node3');
    await cancelAs(a, 'stop a', alice);
    expect(await a.result().then(() => 'completed', (e) => e.cause?.type)).toBe('RunCancelled');
    const still = await b.query(progressQuery);
    expect([still.pendingApproval?.step, (await b.describe()).status.name]).toEqual(['remove:node3', 'RUNNING']);
    await b.terminate('test done');
  });
});
