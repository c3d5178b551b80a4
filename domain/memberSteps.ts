import type { PlanStep } from './progress';

/**
 * The steps that bring one node in as a member: learner first, then promote.
 * Source: reference 000 §5 (add, learner, promote); etcd docs "Runtime reconfiguration" and
 * "Learner"; reference 004 (ETCD_INITIAL_CLUSTER_STATE=existing).
 */
export const ADD_MEMBER_STEPS = [
  ['add-learner', 'add as learner (member add --learner)'],
  ['write-config', 'write member configuration (initial cluster, state existing, TLS)'],
  ['start', 'start etcd on the node'],
  ['wait-caught-up', 'wait until the learner has caught up with the leader'],
  ['promote', 'promote the learner to a voting member'],
  ['wait-healthy', 'wait until every member is healthy'],
] as const;

/**
 * The steps that take one node's member out: leadership moved off it, member removed, etcd
 * stopped and disabled, data dir moved aside (never deleted). Source: reference 000 §7.
 */
export const RETIRE_MEMBER_STEPS = [
  ['move-leader-off', 'move leadership to another voter if this member leads'],
  ['remove', 'remove the member (member remove)'],
  ['stop', 'stop and disable etcd on the node'],
  ['move-aside', 'move the data dir aside'],
] as const;

function steps(table: ReadonlyArray<readonly [string, string]>, node: string): PlanStep[] {
  return table.map(([kind, title]) => ({ id: `${kind}:${node}`, title: `${node}: ${title}`, node, status: 'pending' }));
}

export const addMemberSteps = (node: string) => steps(ADD_MEMBER_STEPS, node);
export const retireMemberSteps = (node: string) => steps(RETIRE_MEMBER_STEPS, node);
