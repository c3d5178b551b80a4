import { advanceWatch, EMPTY_WATCH, findingsOf, type WatchedMember, type WatchProbe } from '../../domain/watch';

const healthy: WatchedMember[] = ['node1', 'node2', 'node3'].map((node) => ({ node, learner: false, etcd: 'serving', ssh: true }));
const probe = (kubeDrift?: string[], at = 0): WatchProbe => ({ at, members: healthy, spare: [], alarms: { noSpace: [], corrupt: [] }, foreign: [], ...(kubeDrift ? { kubeDrift } : {}) });

describe('watch: the control plane against the voting members', () => {
  test('no control plane in the inventory, or no drift: nothing', () => {
    expect(findingsOf(probe())).toEqual([]);
    expect(findingsOf(probe([]))).toEqual([]);
  });

  test('an apiserver listing a removed member proposes kube-sync after 2 minutes; an unready apiserver is a report', () => {
    const drift = ['cp2 kube-apiserver --etcd-servers: extra https://10.0.0.13:2379', 'cp3 kube-apiserver: not ready (/readyz)'];
    const fs = findingsOf(probe(drift));
    expect(fs.map((f) => [f.key, f.propose, f.thresholdSeconds])).toEqual([['kube-drift', { runbook: 'kube-sync', fields: {} }, 120], ['control-plane', undefined, 120]]);
    expect(fs[0].evidence).toBe('the control plane does not list the voting members: cp2 kube-apiserver --etcd-servers: extra https://10.0.0.13:2379');
    let s = EMPTY_WATCH;
    const opened = [0, 60_000, 120_000].map((at) => { const r = advanceWatch(s, probe(drift, at)); s = r.state; return r.change.opened.map((x) => x.key); });
    expect(opened).toEqual([[], [], ['kube-drift', 'control-plane']]);
    expect(advanceWatch(s, probe([], 180_000)).change.closed.map((x) => x.key)).toEqual(['kube-drift', 'control-plane']);
  });
});
