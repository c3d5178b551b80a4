import { PUBLISH_STALL_LINES, publishSwallowedBySnapshot, STUCK_PUBLISH_LINES, stuckPublishing } from '../../domain/publishStall';

const failed = '{"level":"warn","caller":"etcdserver/server.go:1844","msg":"failed to publish local member to cluster through raft","local-member-id":"f497069d9044e8c2","publish-timeout":"7s","error":"etcdserver: request timed out, possibly due to connection lost"}';
const timedOut = '{"level":"warn","msg":"failed to publish local member to cluster through raft","publish-timeout":"7s","error":"etcdserver: request timed out"}';
const other = '{"level":"info","msg":"applied snapshot","current-snapshot-index":6248}';

describe('a joining member stuck publishing itself (etcd log)', () => {
  test('a loop of immediate publish failures (connection lost) is stuck', () => {
    const log = [other, 'Suppressed 120567 messages from etcd.service', ...Array(STUCK_PUBLISH_LINES).fill(failed)].join('\n');
    expect(stuckPublishing(log)).toBe(true);
  });

  test('publishes timing out every 7 s while the member waits for its leader or its database are not stuck', () => {
    expect(stuckPublishing([...Array(5).fill(timedOut), ...Array(40).fill(other)].join('\n'))).toBe(false);
    expect(stuckPublishing([...Array(STUCK_PUBLISH_LINES - 1).fill(failed), other].join('\n'))).toBe(false);
    expect(stuckPublishing('')).toBe(false);
  });
});

describe('a joining member whose publish request was applied inside the leader snapshot (etcd log)', () => {
  const start = '{"level":"info","caller":"etcdserver/server.go:598","msg":"starting etcd server","local-member-id":"d614f8828386301c"}';
  const snap = '{"level":"info","caller":"etcdserver/server.go:1021","msg":"applied snapshot","current-snapshot-index":12060}';
  const published = '{"level":"info","caller":"etcdserver/server.go:1834","msg":"published local member to cluster through raft","local-member-id":"d614f8828386301c"}';
  const peer = '{"level":"info","caller":"rafthttp/peer_status.go:53","msg":"peer became active","peer-id":"6c52fc49fbf5493a"}';

  test('a snapshot applied and no publish since the last start is the race', () => {
    expect(publishSwallowedBySnapshot([start, peer, snap, peer].join('\n'))).toBe(true);
    // an earlier run that published does not count: only lines after the last start do
    expect(publishSwallowedBySnapshot([start, snap, published, start, peer, snap].join('\n'))).toBe(true);
    // the kubeadm runtime's pod log prefixes each line with the CRI timestamp and stream
    expect(publishSwallowedBySnapshot([start, snap].map((l) => `2026-11-23T00:23:12.4Z stderr F ${l}`).join('\n'))).toBe(true);
  });

  test('a member that published, has no snapshot yet, or whose start is not in the lines read is not', () => {
    expect(publishSwallowedBySnapshot([start, snap, published].join('\n'))).toBe(false);
    expect(publishSwallowedBySnapshot([start, peer].join('\n'))).toBe(false);
    expect(publishSwallowedBySnapshot([peer, snap].join('\n'))).toBe(false);
    expect(publishSwallowedBySnapshot([start, snap, published, start, peer].join('\n'))).toBe(false);
    expect(publishSwallowedBySnapshot('')).toBe(false);
  });
});

test('the node-side filter keeps every line publishSwallowedBySnapshot looks at', () => {
  const lines = [
    '{"level":"info","msg":"starting etcd server","local-member-id":"d614f8828386301c"}',
    '{"level":"info","msg":"applied snapshot","current-snapshot-index":12060}',
    '{"level":"info","msg":"published local member to cluster through raft"}',
  ];
  const filter = new RegExp(PUBLISH_STALL_LINES);
  expect(lines.every((l) => filter.test(l))).toBe(true);
  expect(filter.test('{"level":"warn","msg":"failed to publish local member to cluster through raft"}')).toBe(false);
  expect(publishSwallowedBySnapshot(lines.slice(0, 2).filter((l) => filter.test(l)).join('\n'))).toBe(true);
});
