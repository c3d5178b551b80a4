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

/** The log lines publishSwallowedBySnapshot looks at (an extended regular expression, for runtime `log`'s filter). */
export const PUBLISH_STALL_LINES = '"msg":"(starting etcd server|applied snapshot|published local member to cluster through raft)"';

/**
 * Whether etcd's log shows, since its last start, a joining member that applied the leader's
 * snapshot and has not published itself: the race of etcd issue #16436. The member proposes its
 * publish request as soon as it knows its leader; when the leader applies that request before it
 * cuts the snapshot it sends the member, the member never applies the entry (it is inside the
 * snapshot) and waits out its publish timeout (7 s; on etcd 3.6.16 it then loops on "too many
 * requests" until restarted, seen in the lab). A member that publishes normally logs "published
 * local member" within milliseconds of the snapshot. `log`: the last lines of etcd's log (runtime
 * `log`), zap JSON lines (etcd 3.5 and 3.6, and 3.4 with --logger=zap); false when the last
 * "starting etcd server" line is not among them. Pure.
 */
export function publishSwallowedBySnapshot(log: string): boolean {
  const lines = log.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i].includes('"msg":"starting etcd server"')) { start = i; break; }
  if (start < 0) return false;
  const since = lines.slice(start + 1);
  return since.some((l) => l.includes('"msg":"applied snapshot"')) && !since.some((l) => l.includes('"msg":"published local member to cluster through raft"'));
}
