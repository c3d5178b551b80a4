import { RestoreInputSchema, describeZodError } from '../../domain/inputs';

const restore = (path: string) => RestoreInputSchema.safeParse({ cluster: 'lab', snapshot: { node: 'node1', path }, members: ['node1'] });

describe('runbook inputs', () => {
  test('a snapshot path must be absolute and normalised: no "..", no control characters', () => {
    expect(restore('/var/backups/etcd-runbooks/lab-rev42.db').success).toBe(true);
    for (const bad of ['/var/backups/../../etc/shadow', 'relative.db', '/var/backups/x.db\n', '/a//b.db', '/a/./b.db', '/a/b.db/']) {
      const r = restore(bad);
      expect(r.success).toBe(false);
      if (!r.success) expect(describeZodError(r.error)).toMatch(/^snapshot\.path: must be/);
    }
  });
});
