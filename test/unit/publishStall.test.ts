import { STUCK_PUBLISH_LINES, stuckPublishing } from '../../domain/publishStall';

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
