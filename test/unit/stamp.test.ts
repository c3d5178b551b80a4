import { stamp } from '../../workflows/runbook';

describe('backup stamps from workflow time', () => {
  test('to the second, and with milliseconds so that two backups in one second get two files', () => {
    const a = new Date('2026-11-23T01:46:12.123Z');
    const b = new Date('2026-11-23T01:46:12.987Z');
    expect(stamp(a)).toBe('20261123T014612Z');
    expect(stamp(a)).toBe(stamp(b));
    expect(stamp(a, true)).toBe('20261123T014612123Z');
    expect(stamp(a, true)).not.toBe(stamp(b, true));
    expect(stamp(new Date('2026-11-23T01:46:12.000Z'), true)).toBe('20261123T014612000Z');
  });
});
