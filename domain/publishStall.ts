/** How many of the log lines looked at must be failed publishes for the loop to count as stuck. */
export const STUCK_PUBLISH_LINES = 20;

/**
 * Whether etcd's recent log shows a joining member stuck publishing itself: etcd retries
 * "failed to publish local member to cluster through raft" every publish timeout (7 s) while it
 * waits for a leader, but a member that joined through the leader's snapshot sometimes fails it at
 * once with "request timed out, possibly due to connection lost", in a loop that journald has to
 * suppress, until its start times out (seen on etcd 3.6.16 in the lab; etcd issues #15929, #16436,
 * #18534 report the message). A restart publishes at once. `log`: the last lines of etcd's log
 * (runtime `log`). True when at least STUCK_PUBLISH_LINES of them are such failures. Pure.
 */
export function stuckPublishing(log: string): boolean {
  const failed = log.split('\n').filter((l) => l.includes('failed to publish local member to cluster through raft') && l.includes('possibly due to connection lost'));
  return failed.length >= STUCK_PUBLISH_LINES;
}
