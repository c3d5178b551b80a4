import { sign } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical';
import { inputDigest, keyIdOf, trustDigest, verifyDecision, type DecisionExpectation, type Trust } from '../../domain/decision';
import type { Actor } from '../../domain/identity';
import { DecisionSigner, type DecisionRequest } from '../../service/signer';

// Signed decisions as a workflow checks them (pure, no Temporal): every way a forged, stale,
// replayed or misdirected decision is refused, and the one way it is accepted.
describe('signed decisions', () => {
  const { signer } = DecisionSigner.generate();
  const other = DecisionSigner.generate().signer;
  const trust: Trust = { keys: [signer.trustEntry(['api', 'cli'])] };
  const bob: Actor = { principal: 'bob', method: 'oidc', channel: 'api', roles: ['approver'] };
  const req: DecisionRequest = { action: 'approve', workflowId: 'etcd-runbooks-prod', runId: 'run-1', runbook: 'removeMember', cluster: 'prod', step: 'remove:node3' };
  const expect1: DecisionExpectation = { action: 'approve', workflowId: 'etcd-runbooks-prod', runId: 'run-1', runbook: 'removeMember', cluster: 'prod', step: 'remove:node3', now: Date.now() };

  test('a decision signed by a trusted key, for this run and step, is accepted with who signed it', () => {
    const d = verifyDecision(signer.sign(bob, req), trust, expect1);
    expect([d.principal, d.method, d.channel, d.roles, d.step]).toEqual(['bob', 'oidc', 'api', ['approver'], 'remove:node3']);
    expect(signer.keyId).toBe(keyIdOf(signer.publicKey));
  });

  test('forged, misdirected, stale and replayed decisions are refused, each naming why', () => {
    const good = signer.sign(bob, req);
    const claims = JSON.parse(good.claims) as Record<string, unknown>;
    const edited = { ...good, claims: JSON.stringify({ ...claims, principal: 'alice' }) };
    expect(() => verifyDecision(edited, trust, expect1)).toThrow(/signature does not match/);
    expect(() => verifyDecision(other.sign(bob, req), trust, expect1)).toThrow(/which this run does not trust/);
    expect(() => verifyDecision({ step: 'remove:node3', by: 'alice' }, trust, expect1)).toThrow(/not a signed decision/);
    expect(() => verifyDecision(signer.sign({ ...bob, channel: 'slack', method: 'slack' }, req), trust, expect1)).toThrow(/may not sign for channel slack/);
    expect(() => verifyDecision(good, trust, { ...expect1, runId: 'run-2' })).toThrow(/for run run-1, not run-2/);
    expect(() => verifyDecision(good, trust, { ...expect1, step: 'move-aside:node3' })).toThrow(/for step remove:node3, not move-aside:node3/);
    expect(() => verifyDecision(good, trust, { ...expect1, action: 'reject' })).toThrow(/approve decision, not reject/);
    expect(() => verifyDecision(good, trust, { ...expect1, cluster: 'staging' })).toThrow(/not removeMember on staging/);
    expect(() => verifyDecision(good, trust, { ...expect1, now: Date.now() + 10 * 60_000 })).toThrow(/expired at/);
    expect(() => verifyDecision(signer.sign(bob, req, 60 * 60_000), trust, expect1)).toThrow(/more than 600 s/);
    expect(() => verifyDecision(good, trust, { ...expect1, used: new Set([claims.nonce as string]) })).toThrow(/already used/);
  });

  test('a schedule\'s long-lived start is valid only for its own runs of a backup or drill', () => {
    const start = (runbook: string) => signer.sign(bob, { action: 'start', workflowId: 'etcd-runbooks-backup-prod', runbook, cluster: 'prod', scheduled: true }, 400 * 24 * 3600_000);
    const e: DecisionExpectation = { action: 'start', workflowId: 'etcd-runbooks-backup-prod-2026-12-03T10:00:00Z', runbook: 'backupCluster', cluster: 'prod', now: Date.now() };
    expect(verifyDecision(start('backupCluster'), trust, e).scheduled).toBe(true);
    expect(() => verifyDecision(start('backupCluster'), trust, { ...e, workflowId: 'etcd-runbooks-prod' })).toThrow(/runs of schedule etcd-runbooks-backup-prod/);
    expect(() => verifyDecision(start('removeMember'), trust, { ...e, runbook: 'removeMember' })).toThrow(/may not be started by a schedule/);
  });

  test('a Node signature verifies in the pure verifier (the two Ed25519 implementations agree)', () => {
    const text = JSON.stringify({ v: 1, ...req, principal: 'bob', method: 'oidc', channel: 'api', roles: ['approver'], iat: Date.now(), exp: Date.now() + 60_000, nonce: '0'.repeat(32) });
    const { signer: s2, pem } = DecisionSigner.generate();
    const signature = sign(null, Buffer.from(text), pem).toString('hex');
    expect(verifyDecision({ claims: text, keyId: s2.keyId, signature }, { keys: [s2.trustEntry(['api'])] }, expect1).principal).toBe('bob');
  });

  test('digests are canonical: key order does not matter, authority fields are left out of the input digest', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: undefined }] })).toBe('{"a":[2,{"d":3}],"b":1}');
    expect(inputDigest({ cluster: 'prod', node: 'node3', authority: { x: 1 }, trust: {} })).toBe(inputDigest({ node: 'node3', cluster: 'prod' }));
    expect(inputDigest({ cluster: 'prod', node: 'node3' })).not.toBe(inputDigest({ cluster: 'prod', node: 'node2' }));
    expect(trustDigest(trust)).toMatch(/^[0-9a-f]{64}$/);
  });
});
