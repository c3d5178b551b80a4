import { createActivities } from '../../activities';
import { InventoryRegistry } from '../../activities/registry';
import { SshPool } from '../../activities/ssh/session';
import { freshLabWith, INVENTORY, lab, onNode, onNodeStatus } from '../support/lab';
import { memberClient, memberNames } from '../support/etcd';

jest.setTimeout(10 * 60_000);

// Each activity run twice in a row (and after a partial first attempt) against the lab, called
// directly as a worker would: the end state must be the one a single run leaves.
describe('activities are idempotent (lab, no Temporal needed)', () => {
  let acts: ReturnType<typeof createActivities>;
  let pool: SshPool;
  const base = { cluster: 'lab' };
  /** One run as a workflow makes it: retryable failures (e.g. etcd's transient "unhealthy cluster") are retried. */
  const once = async <T>(fn: () => Promise<{ result: T }>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await fn()).result;
      } catch (e) {
        if ((e as { nonRetryable?: boolean }).nonRetryable || attempt >= 15) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const twice = async <T>(fn: () => Promise<{ result: T }>) => [await once(fn), await once(fn)] as const;

  beforeAll(() => {
    freshLabWith(4, 1);
    pool = new SshPool();
    acts = createActivities({ registry: new InventoryRegistry([INVENTORY]), pool });
  });
  afterAll(() => {
    pool.closeAll();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('adding a member: add learner, write config, start, wait, promote, wait healthy, each twice', async () => {
    const n = { ...base, node: 'node2' };
    const [a1, a2] = await twice(() => acts.addLearner(n));
    expect(a2.initialCluster).toBe(a1.initialCluster);
    const [w1, w2] = await twice(() => acts.writeMemberConfig({ ...n, initialCluster: a2.initialCluster }));
    expect([w1.changed, w2.changed]).toEqual([true, false]);
    const [s1, s2] = await twice(() => acts.startMember(n));
    expect(s2.memberId).toBe(s1.memberId);
    await twice(() => acts.waitLearnerCaughtUp(n));
    const [l1, l2] = await twice(() => acts.learnerProgress({ ...n, forSeconds: 30 }));
    expect([l1.caughtUp, l2.caughtUp]).toEqual([true, true]);
    const [p1, p2] = await twice(() => acts.promoteLearner(n));
    expect([p1.alreadyVoter, p2.alreadyVoter]).toEqual([false, true]);
    await twice(() => acts.waitClusterHealthy(n));
    const c = memberClient((await import('../../inventory/load')).loadInventoryFile(INVENTORY), 'node1');
    try {
      expect(await memberNames(c)).toEqual(['node1', 'node2']);
    } finally {
      c.close();
    }
  });

  test('snapshot and backup: the same label or stamp twice gives one verified file; a corrupt leftover is replaced', async () => {
    const [a, b] = await twice(() => acts.takeSnapshot({ ...base, label: 'idem' }));
    expect(b.path).toBe(a.path);
    expect(b.sha256).toBe(a.sha256);
    onNode(a.node, `printf garbage | dd of=${a.path} bs=1 seek=100 conv=notrunc 2>/dev/null`);
    const c = (await acts.takeSnapshot({ ...base, label: 'idem' })).result;
    expect(c.path).toBe(a.path);
    expect(onNodeStatus(a.node, `test -f ${a.path}.saving`)).not.toBe(0);
    const [k1, k2] = await twice(() => acts.takeBackup({ ...base, stamp: '20260101T000000Z', keep: 5 }));
    expect(k2.path).toBe(k1.path);
    expect(k2.pruned).toEqual([]);
  });

  test('removing a member: move leader off, remove, stop, move aside, each twice', async () => {
    const n = { ...base, node: 'node2' };
    await twice(() => acts.moveLeaderOff(n));
    const [r1, r2] = await twice(() => acts.removeMember(n));
    expect(r1.removed).toBeDefined();
    expect(r2.removed).toBeUndefined();
    await twice(() => acts.stopMember(n));
    const [m1, m2] = await twice(() => acts.moveDataDirAside({ ...n, tag: 'idem' }));
    expect(m1.movedTo).toBe('/var/lib/etcd/default.aside-idem');
    expect(m2.movedTo).toBe(m1.movedTo);
    expect(onNode('node2', 'ls /var/lib/etcd/default.aside-idem')).toMatch(/member/);
  });

  test('restore pieces: fence, copy snapshot (after a partial copy), restore (after a leftover temp dir), start, peer URL, each twice', async () => {
    const snap = (await acts.takeSnapshot({ ...base, label: 'idem' })).result;
    const n = { ...base, node: 'node3' };
    const [f1, f2] = await twice(() => acts.fenceMember(n));
    expect([f1.service, f2.service]).toEqual(['stopped', 'stopped']);
    onNode('node3', `mkdir -p /var/backups/etcd-runbooks && echo partial > /var/backups/etcd-runbooks/${snap.path.split('/').pop()}.copying`);
    const [c1, c2] = await twice(() => acts.copySnapshot({ ...base, from: snap.node, path: snap.path, to: 'node3' }));
    expect(c2.sha256).toBe(snap.sha256);
    expect(c1.path).toBe(c2.path);
    onNode('node3', 'mkdir -p /var/lib/etcd/default.restoring-idem && echo junk > /var/lib/etcd/default.restoring-idem/x');
    const [t1, t2] = await twice(() => acts.restoreDataDir({ ...n, path: c1.path, token: 'lab-idem', tag: 'idem' }));
    expect([t1.restored, t2.restored]).toEqual([true, false]);
    expect(onNodeStatus('node3', 'test -e /var/lib/etcd/default.restoring-idem')).not.toBe(0);
    const [v1, v2] = await twice(() => acts.startRestoredMember({ ...n, token: 'lab-idem' }));
    expect(v2.memberId).toBe(v1.memberId);
    expect(v2.members).toBe(1);
    await twice(() => acts.ensurePeerURL(n));
    const [b1, b2] = await twice(() => acts.backupDataDir({ ...n, tag: 'idem' }));
    expect(b2.copy).toBe(b1.copy);
    const [fn1, fn2] = await twice(() => acts.forceNewCluster(n));
    expect(fn2.memberId).toBe(fn1.memberId);
    const [x1, x2] = await twice(() => acts.clearForceNewCluster(n));
    expect([x1.flag, x2.flag]).toEqual([{ dropIn: false, inProcess: false }, { dropIn: false, inProcess: false }]);
  });

  test('undo pieces: unfence puts a moved-aside data dir back and restarts etcd, twice; cleanup of a non-member, twice', async () => {
    const n = { ...base, node: 'node4' };
    onNode('node4', 'mkdir -p /var/lib/etcd/default/member && echo x > /var/lib/etcd/default/member/marker && chown -R etcd:etcd /var/lib/etcd/default');
    await twice(() => acts.fenceMember(n));
    const [m1] = await twice(() => acts.moveDataDirAside({ ...n, tag: 'undo' }));
    expect(m1.movedTo).toBe('/var/lib/etcd/default.aside-undo');
    const [u1, u2] = await twice(() => acts.unfence({ ...n, tag: 'undo', start: false }));
    expect([u1.movedBack, u2.movedBack]).toEqual([true, false]);
    expect(onNode('node4', 'cat /var/lib/etcd/default/member/marker').trim()).toBe('x');
    expect(onNode('node4', 'systemctl is-enabled etcd || true').trim()).not.toBe('masked-runtime');
    const [c1, c2] = await twice(() => acts.cleanupNode({ ...n, tag: 'cleanup' }));
    expect(c1.movedTo).toBe('/var/lib/etcd/default.aside-cleanup');
    expect(c2.movedTo).toBeUndefined();
    expect(onNodeStatus('node4', 'test -e /var/lib/etcd/default/member')).not.toBe(0);
  });

  test('an unstarted member left by an interrupted add is removed and re-added, never duplicated', async () => {
    const inv = (await import('../../inventory/load')).loadInventoryFile(INVENTORY);
    const peer = inv.nodes.find((x) => x.name === 'node4')!.etcd.peerURL;
    // node3 still serves the one-member cluster the restore pieces made: a second cluster inside the
    // inventory, which a member list asked of every client URL may reach (CI: the add went to it).
    // This test is about node1's cluster.
    onNode('node3', 'systemctl stop etcd');
    onNode('node1', `ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/etcd/pki/ca.crt --cert=/etc/etcd/pki/client.crt --key=/etc/etcd/pki/client.key member add node4 --learner --peer-urls=${peer} >/dev/null`);
    const r = (await acts.addLearner({ ...base, node: 'node4' })).result;
    expect(r.alreadyPresent).toBe(false);
    const c = memberClient(inv, 'node1');
    try {
      const withPeer = (await c.cluster.memberList({ linearizable: true })).members!.filter((m) => m.peerURLs!.includes(peer));
      expect(withPeer.map((m) => BigInt(m.ID!).toString(16))).toEqual([r.memberId]);
    } finally {
      c.close();
    }
  });
});
