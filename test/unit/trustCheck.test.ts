import { clusterActivity, type ActivityDeps } from '../../activities/wrap';

// The worker's half of signed decisions: a run whose pinned keys are not the worker's own (a
// start that brought keys, and decisions signed with them) does nothing on any node.
describe('activities refuse a run that trusts other keys than the worker', () => {
  const loaded: string[] = [];
  const deps = (digest?: string): ActivityDeps => ({
    registry: { load: (cluster: string) => { loaded.push(cluster); throw new Error('inventory read'); } } as never,
    pool: {} as never,
    trustDigest: () => digest,
  });
  const act = (d: ActivityDeps) => clusterActivity(d, async () => 'ran');

  test('a different digest is refused before the inventory is read or a node is asked', async () => {
    loaded.length = 0;
    await expect(act(deps('a'.repeat(64)))({ cluster: 'lab', trustDigest: 'b'.repeat(64) })).rejects.toMatchObject({
      type: 'PreconditionError', nonRetryable: true, message: expect.stringMatching(/trusts other decision keys than this worker's trust file \(digest aaaaaaaaaaaaaaaa…\)/),
    });
    await expect(act(deps(undefined))({ cluster: 'lab', trustDigest: 'b'.repeat(64) })).rejects.toMatchObject({ message: expect.stringMatching(/trust file \(none\)/) });
    expect(loaded).toEqual([]);
  });

  test('the worker\'s own digest goes on to the inventory', async () => {
    loaded.length = 0;
    await expect(act(deps('a'.repeat(64)))({ cluster: 'lab', trustDigest: 'a'.repeat(64) })).rejects.toMatchObject({ message: 'inventory read' });
    expect(loaded).toEqual(['lab']);
  });
});
