import { z } from 'zod';
import {
  BackupInputSchema, CleanupInputSchema, DrillInputSchema, ExpandInputSchema, KubeSyncInputSchema, MigrateMemberInputSchema, MoveLeaderInputSchema,
  PromoteInputSchema, RecoverQuorumInputSchema, RemoveMemberInputSchema, ReplaceMemberInputSchema, RestoreInputSchema,
} from '../domain/inputs';

/** The workflows a runbook name starts (workflows/index.ts). */
export type WorkflowName = 'backupCluster' | 'drillRestore' | 'cleanupNode' | 'expandCluster' | 'kubeSync' | 'migrateMember' | 'moveLeader'
  | 'promoteMember' | 'recoverQuorum' | 'removeMember' | 'replaceMember' | 'restoreCluster';

/** One runbook as the API and chat name it (the CLI's verb), with its workflow and input schema. */
export interface RunbookEntry {
  workflow: WorkflowName;
  /** The workflow's input schema: the one the CLI validates with and the workflow checks again. */
  schema: z.ZodType;
  /** The request body: the schema's own fields, without those the service sets. */
  body: z.ZodObject;
  summary: string;
}

/**
 * Fields no request may carry: the service sets them from the URL, the inventory, the caller's
 * authentication and the access policy, and signs them (domain/decision.ts).
 */
export const SET_BY_SERVICE = ['cluster', 'inventoryDigest', 'approvedBy', 'requester', 'fourEyes', 'authority', 'trust'] as const;

/** The control fields among `fields`' keys (each refused by name wherever a request comes in). */
export function controlFieldsIn(fields: Record<string, unknown>): string[] {
  return Object.keys(fields).filter((k) => (SET_BY_SERVICE as readonly string[]).includes(k));
}

function entry(workflow: WorkflowName, schema: z.ZodObject, summary: string): RunbookEntry {
  const shape = Object.fromEntries(Object.entries(schema.shape).filter(([k]) => !(SET_BY_SERVICE as readonly string[]).includes(k)));
  return { workflow, schema, body: z.strictObject(shape), summary };
}

/** Every runbook the service starts, by name. Sources of each procedure: the workflows' docstrings. */
export const RUNBOOKS = {
  expand: entry('expandCluster', ExpandInputSchema, 'add members one at a time (learner, start, promote) after pre-flight checks and a verified snapshot'),
  replace: entry('replaceMember', ReplaceMemberInputSchema, 'replace a failed member: remove it, then add the replacement as a learner and promote it'),
  migrate: entry('migrateMember', MigrateMemberInputSchema as unknown as z.ZodObject, 'move a member to another node: add the new one first, then remove the old one'),
  'remove-member': entry('removeMember', RemoveMemberInputSchema, 'remove a member (refused if quorum would be lost)'),
  'move-leader': entry('moveLeader', MoveLeaderInputSchema, 'make a member the leader'),
  promote: entry('promoteMember', PromoteInputSchema, 'promote a learner once it has caught up'),
  'kube-sync': entry('kubeSync', KubeSyncInputSchema, 'point the kubeadm control plane at the voting members'),
  backup: entry('backupCluster', BackupInputSchema, 'verified snapshot on the leader, with retention and an off-node copy'),
  drill: entry('drillRestore', DrillInputSchema, 'restore drill of the newest off-node copy'),
  restore: entry('restoreCluster', RestoreInputSchema as unknown as z.ZodObject, 'disaster restore from a snapshot'),
  'recover-quorum': entry('recoverQuorum', RecoverQuorumInputSchema as unknown as z.ZodObject, 'after losing a majority: --force-new-cluster on the most advanced survivor, then re-add the others'),
  cleanup: entry('cleanupNode', CleanupInputSchema, 'finish what a run left on a node that is not a member'),
} satisfies Record<string, RunbookEntry>;
export type RunbookName = keyof typeof RUNBOOKS;
export const RunbookNameSchema = z.enum(Object.keys(RUNBOOKS) as [RunbookName, ...RunbookName[]]);

/** Node names a runbook's fields refer to (each must be in the cluster's inventory). */
export function nodesOf(fields: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of ['node', 'failed', 'replacement', 'from', 'to', 'restoreOn']) if (typeof fields[k] === 'string') out.push(fields[k] as string);
  for (const k of ['add', 'members']) if (Array.isArray(fields[k])) out.push(...(fields[k] as string[]));
  const snap = fields.snapshot as { node?: unknown } | undefined;
  if (snap && typeof snap.node === 'string') out.push(snap.node);
  return out;
}
