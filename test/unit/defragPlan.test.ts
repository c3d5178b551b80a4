import { defragNeedBytes, planDefrag, stillOverQuota, type DefragMemberView } from '../../domain/defrag';

const MiB = 2 ** 20;
const view = (n: number, extra: Partial<DefragMemberView> = {}): DefragMemberView => ({
  node: `node${n}`, memberId: `${n}a`, isLeader: n === 1, serving: true, dbSize: 100 * MiB, dbSizeInUse: 40 * MiB, quotaBytes: 2048 * MiB, freeBytes: 10_000 * MiB, ...extra,
});
const none = { noSpace: [], corrupt: [] };

test('followers first in inventory order, the leader last; below the threshold skipped with its figure', () => {
  const p = planDefrag([view(1), view(2, { dbSizeInUse: 95 * MiB }), view(3)], none, 10);
  expect(p.members.map((m) => m.node)).toEqual(['node2', 'node3', 'node1']);
  expect(p.leader).toBe('node1');
  expect(p.members.map((m) => m.skip ?? 'rewrite')).toEqual(['5% of its 100.0 MiB file is free, below 10%', 'rewrite', 'rewrite']);
  expect(p.problems).toEqual([]);
  expect(p.disarm).toBe(false);
});

test('free disk: the new file (+10%, +64 MiB) must fit, and unknown disk (SSH-only loss) skips the member, not the run', () => {
  const need = defragNeedBytes(40 * MiB);
  expect(need).toBe(Math.ceil(44 * MiB) + 64 * MiB);
  const p = planDefrag([view(1), view(2, { freeBytes: need - 1 }), view(3, { freeBytes: undefined, diskError: 'node3: SSH connect timed out' })], none, 10);
  expect(p.members.find((m) => m.node === 'node2')?.skip).toBe('not enough free disk for the rewrite: 108.0 MiB free, needs 108.0 MiB');
  expect(p.members.find((m) => m.node === 'node3')?.skip).toMatch(/^free disk of its data dir unknown \(node3: SSH connect timed out\)/);
  expect(p.members.find((m) => m.node === 'node1')?.skip).toBeUndefined();
  expect(p.problems).toEqual([]);
});

test('refused: a voting member that does not serve, a CORRUPT alarm', () => {
  const p = planDefrag([view(1), view(2, { serving: false })], { noSpace: [], corrupt: ['2a'] }, 10);
  expect(p.problems).toHaveLength(2);
  expect(p.problems[0]).toMatch(/^node2: its member's endpoint does not answer/);
  expect(p.problems[1]).toMatch(/^CORRUPT alarm raised by member\(s\) 2a/);
});

test('NOSPACE: members over the disarm line are rewritten whatever their fragmentation; the run disarms', () => {
  const quota = 16 * MiB;
  const full = { dbSize: 16 * MiB, dbSizeInUse: 16 * MiB - 4096, quotaBytes: quota };
  const p = planDefrag([view(1, full), view(2, full), view(3, { ...full, dbSize: 8 * MiB, dbSizeInUse: 8 * MiB })], { noSpace: ['1a'], corrupt: [] }, 10);
  expect(p.disarm).toBe(true);
  expect(p.members.map((m) => m.skip === undefined)).toEqual([true, false, true]);
  expect(stillOverQuota([{ node: 'node1', dbSize: 15 * MiB, quotaBytes: quota }, { node: 'node2', dbSize: 4 * MiB, quotaBytes: quota }]))
    .toEqual(['node1: 15.0 MiB file, quota 16.0 MiB (disarm needs below 90%)']);
});
