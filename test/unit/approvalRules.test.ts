import { decisionRefusal } from '../../workflows/approval';
import { hasRole } from '../../domain/identity';
import { fourEyesFor, osUserRoles, AccessSchema } from '../../config/access';

const alice = { principal: 'alice', method: 'token' as const, channel: 'api' as const };

describe('approval rules (four-eyes, roles)', () => {
  test('four-eyes refuses the requester and nobody else; off, the requester may approve', () => {
    expect(decisionRefusal({ requester: alice, fourEyes: true }, 'alice', ['approver'])).toMatch(/four-eyes: alice requested this run/);
    expect(decisionRefusal({ requester: alice, fourEyes: true }, 'bob', ['approver'])).toBeUndefined();
    expect(decisionRefusal({ requester: alice, fourEyes: false }, 'alice', ['approver'])).toBeUndefined();
    // A run started straight through Temporal (no requester) has nobody to compare with.
    expect(decisionRefusal({ fourEyes: true }, 'alice', ['approver'])).toBeUndefined();
  });

  test('a decision carrying roles needs approver or admin; one without roles (pre-0.5 callers) is not role-checked', () => {
    expect(decisionRefusal({ fourEyes: false }, 'mallory', ['operator'])).toMatch(/does not have the approver role/);
    expect(decisionRefusal({ fourEyes: false }, 'root', ['admin'])).toBeUndefined();
    expect(decisionRefusal({ fourEyes: false }, 'e2e')).toBeUndefined();
  });

  test('roles rank viewer < operator < approver < admin', () => {
    expect(hasRole(['approver'], 'operator')).toBe(true);
    expect(hasRole(['operator'], 'approver')).toBe(false);
    expect(hasRole(['viewer'], 'viewer')).toBe(true);
    expect(hasRole([], 'viewer')).toBe(false);
  });

  test('access config: four-eyes defaults to every runbook that removes a member or replaces data; without osUsers only root is admin', () => {
    const none = AccessSchema.parse({});
    expect(['restoreCluster', 'recoverQuorum', 'removeMember', 'replaceMember', 'migrateMember', 'expandCluster'].map((w) => fourEyesFor(none, w))).toEqual([true, true, true, true, true, false]);
    expect(fourEyesFor(AccessSchema.parse({ fourEyes: ['expandCluster'] }), 'restoreCluster')).toBe(false);
    expect(osUserRoles(none, 'root', 0)).toEqual(['admin']);
    expect(osUserRoles(none, 'anyone', 1000)).toEqual([]);
    const listed = AccessSchema.parse({ osUsers: { alice: ['operator'] } });
    expect([osUserRoles(listed, 'alice', 1000), osUserRoles(listed, 'eve', 1001)]).toEqual([['operator'], []]);
    expect(AccessSchema.safeParse({ tokens: [{ name: 'x', sha256: 'plain-token', roles: ['admin'] }] }).error?.issues[0].path).toEqual(['tokens', 0, 'sha256']);
  });
});
