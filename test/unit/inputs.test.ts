import { RestoreInputSchema, ScheduleBackupInputSchema, describeZodError, intervalSeconds } from '../../domain/inputs';

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

describe('schedule intervals', () => {
  it('reads <n>s|m|h|d and refuses anything else', () => {
    expect([intervalSeconds('90s'), intervalSeconds('15m'), intervalSeconds('1h'), intervalSeconds('2d')]).toEqual([90, 900, 3600, 172800]);
    for (const bad of ['1', '1w', '0s', '-1h', '1.5h', '1h30m', ' 1h', '']) expect(intervalSeconds(bad)).toBeUndefined();
  });

  it('a schedule of backups needs at least 10 s between runs, and names the field', () => {
    expect(ScheduleBackupInputSchema.parse({ cluster: 'lab', every: '10s' })).toEqual({ cluster: 'lab', every: '10s', keep: 7 });
    const r = ScheduleBackupInputSchema.safeParse({ cluster: 'lab', every: '5s', keep: 3 });
    expect(r.success ? '' : describeZodError(r.error)).toMatch(/^every: an interval like 90s/);
  });
});
