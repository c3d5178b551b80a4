import { z } from 'zod';
import {
  BackupInputSchema, CleanupInputSchema, DefragInputSchema, RotateCertsInputSchema, UpgradeInputSchema, DrillInputSchema, ExpandInputSchema, KubeSyncInputSchema, MigrateMemberInputSchema, MoveLeaderInputSchema,
  PromoteInputSchema, RecoverQuorumInputSchema, RemoveMemberInputSchema, ReplaceMemberInputSchema, RestoreInputSchema,
} from '../domain/inputs';

/** The workflows a runbook name starts (workflows/index.ts). */
export type WorkflowName = 'backupCluster' | 'defragCluster' | 'upgradeCluster' | 'rotateCerts' | 'drillRestore' | 'cleanupNode' | 'expandCluster' | 'kubeSync' | 'migrateMember' | 'moveLeader'
  | 'promoteMember' | 'recoverQuorum' | 'removeMember' | 'replaceMember' | 'restoreCluster';

/**
 * How the CLI offers one field of a runbook: the option (commander syntax, e.g. `-a, --add <nodes>`),
 * its help, and how its text becomes the field's value (default: the text; a flag without an
 * argument gives true). Whether it is required comes from the schema.
 */
export interface CliField { flag: string; help: string; parse?: (text: string) => unknown }

/** Comma-separated node names. */
const nodeList = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
/** A whole number, or NaN (which the schema then refuses, naming the field). */
const whole = (s: string) => (/^[0-9]+$/.test(s.trim()) ? Number(s) : NaN);
/** `NODE:PATH`, e.g. `node1:/var/backups/etcd-runbooks/lab-node1-rev42-20261121T100000Z.db`. */
const nodePath = (s: string) => ({ node: s.slice(0, Math.max(0, s.indexOf(':'))), path: s.slice(s.indexOf(':') + 1) });

/** Fields every runbook takes that the CLI offers once for all (`--approval-timeout`, `--plan`), or that the service sets. */
export const COMMON_FIELDS = ['approvalTimeoutSeconds', 'dryRun', 'approvedBy', 'requester', 'fourEyes', 'authority', 'trust', 'cluster', 'inventoryDigest'] as const;

/** One runbook as the API and chat name it (the CLI's verb), with its workflow and input schema. */
export interface RunbookEntry {
  workflow: WorkflowName;
  /** The workflow's input schema: the one the CLI validates with and the workflow checks again. */
  schema: z.ZodType;
  /** The request body: the schema's own fields, without those the service sets. */
  body: z.ZodObject;
  summary: string;
  /** The CLI's option for each of the body's own fields (every one has one: checked at load). */
  cli: Record<string, CliField>;
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

function entry(workflow: WorkflowName, schema: z.ZodObject, summary: string, cli: Record<string, CliField> = {}): RunbookEntry {
  const shape = Object.fromEntries(Object.entries(schema.shape).filter(([k]) => !(SET_BY_SERVICE as readonly string[]).includes(k)));
  const missing = Object.keys(shape).filter((k) => !(COMMON_FIELDS as readonly string[]).includes(k) && !cli[k]);
  const unknown = Object.keys(cli).filter((k) => !(k in shape));
  if (missing.length || unknown.length) throw new Error(`catalogue: ${workflow}: fields without a CLI option: ${missing.join(', ') || '-'}; options for no field: ${unknown.join(', ') || '-'}`);
  return { workflow, schema, body: z.strictObject(shape), summary, cli };
}

/** Every runbook the service starts, by name: the API's, chat's and the CLI's (one verb each). Sources of each procedure: the workflows' docstrings. */
export const RUNBOOKS = {
  expand: entry('expandCluster', ExpandInputSchema, 'add members one at a time (learner, start, promote) after pre-flight checks and a verified snapshot', {
    add: { flag: '-a, --add <nodes>', help: 'comma-separated inventory node names to add, in order', parse: nodeList },
    allowEvenSize: { flag: '--allow-even-size', help: 'permit an even number of voting members at the end' },
  }),
  replace: entry('replaceMember', ReplaceMemberInputSchema, 'replace a failed member: remove it, then add the replacement as a learner and promote it', {
    failed: { flag: '--failed <node>', help: 'the failed member\'s node' },
    replacement: { flag: '--replacement <node>', help: 'the node to add instead (default: the same node, repaired)' },
  }),
  migrate: entry('migrateMember', MigrateMemberInputSchema as unknown as z.ZodObject, 'move a member to another node: add the new one first, then remove the old one', {
    from: { flag: '--from <node>', help: 'current node' },
    to: { flag: '--to <node>', help: 'new node' },
  }),
  'remove-member': entry('removeMember', RemoveMemberInputSchema, 'remove a member (refused if quorum would be lost, or from 2 members to 1 unless --allow-two-to-one)', {
    node: { flag: '-n, --node <node>', help: 'inventory node whose member to remove' },
    allowTwoToOne: { flag: '--allow-two-to-one', help: 'permit removing one of 2 voting members (reference 000 §8.1 advises a snapshot restored on one node instead)' },
  }),
  'move-leader': entry('moveLeader', MoveLeaderInputSchema, 'make a member the leader', {
    to: { flag: '--to <node>', help: 'inventory node whose member should lead' },
  }),
  promote: entry('promoteMember', PromoteInputSchema, 'promote a learner once it has caught up', {
    node: { flag: '-n, --node <node>', help: 'inventory node whose learner to promote' },
  }),
  'kube-sync': entry('kubeSync', KubeSyncInputSchema, 'point the kubeadm-config ConfigMap, each kubeadm config file and each kube-apiserver (one at a time) at the voting members'),
  backup: entry('backupCluster', BackupInputSchema, 'verified snapshot on the leader, with retention and an off-node copy', {
    keep: { flag: '--keep <n>', help: 'backups to keep (default 7)', parse: whole },
  }),
  defrag: entry('defragCluster', DefragInputSchema, 'online defragmentation, one member at a time (followers, then the leader after moving leadership), then a NOSPACE alarm disarmed once space is back under the quota', {
    minFreePercent: { flag: '--min-free-percent <n>', help: 'skip members with less than this share of their database file free (default 10)', parse: whole },
    offline: { flag: '--offline', help: 'stop each member and rewrite its file with etcdutl defrag, then start it (a database too large to defragment online)' },
  }),
  upgrade: entry('upgradeCluster', UpgradeInputSchema, 'rolling etcd upgrade (a patch or the next minor), one member at a time, followers first, the leader last; rolled back if it fails before the last member', {
    version: { flag: '--to <version>', help: 'the etcd release to run, e.g. 3.6.16 (systemd: found under the inventory\'s systemd.releasesDir on every node; kubeadm: the image <repository>:3.6.16-0 in containerd on every node)' },
  }),
  'rotate-certs': entry('rotateCerts', RotateCertsInputSchema, 'renew every member\'s server, peer and client certificates (same SANs) one member at a time: systemd with the inventory\'s CA, no restart; kubeadm with kubeadm certs renew, each apiserver restarted', {
    days: { flag: '--days <n>', help: 'validity of the renewed certificates in days (default 365; kubeadm uses its certificateValidityPeriod)', parse: whole },
  }),
  drill: entry('drillRestore', DrillInputSchema, 'restore drill of the newest off-node copy'),
  restore: entry('restoreCluster', RestoreInputSchema as unknown as z.ZodObject, 'disaster restore from a snapshot: fence every node, move data dirs aside, restore on one node, re-add the others', {
    snapshot: { flag: '--snapshot <node:path>', help: 'the snapshot file, e.g. node1:/var/backups/etcd-runbooks/lab-node1-rev42-20261121T100000Z.db', parse: nodePath },
    members: { flag: '--members <nodes>', help: 'comma-separated nodes of the restored cluster, in order', parse: nodeList },
    restoreOn: { flag: '--restore-on <node>', help: 'node to restore on (default: the first member)' },
    bumpRevision: { flag: '--bump-revision <n>', help: 'revisions to add on top of the snapshot\'s, marked compacted (0: none); default: when the inventory says backsKubernetes, 2x the largest raft index or revision seen, at least 1000000000', parse: whole },
  }),
  'recover-quorum': entry('recoverQuorum', RecoverQuorumInputSchema as unknown as z.ZodObject, 'after losing a majority: --force-new-cluster on the most advanced survivor, then re-add the others', {
    members: { flag: '--members <nodes>', help: 'comma-separated nodes of all the cluster\'s members', parse: nodeList },
    waitForNodesSeconds: { flag: '--wait-for-nodes <seconds>', help: 'how long to wait for each lost node to answer again (default 3600)', parse: whole },
  }),
  cleanup: entry('cleanupNode', CleanupInputSchema, 'finish what a run left on a node that is not a member: stop and disable etcd, drop --force-new-cluster, move a non-empty data dir aside', {
    node: { flag: '-n, --node <node>', help: 'the node named in the run\'s leftovers' },
  }),
} satisfies Record<string, RunbookEntry>;
export type RunbookName = keyof typeof RUNBOOKS;

/** A CLI verb that starts a catalogue runbook with some of its fields set: its own options, and the fields they make. */
export interface CliPreset { runbook: RunbookName; summary: string; cli: Record<string, CliField>; fields: (values: Record<string, unknown>) => Record<string, unknown> }

/**
 * `add-member`: expand by one node (reference 000 §5 adds members one at a time). An even final size
 * is refused at pre-flight unless `--allow-even-size` (references 002 and 003: always an odd number
 * of members; an even one adds no fault tolerance).
 */
export const CLI_PRESETS: Record<string, CliPreset> = {
  'add-member': {
    runbook: 'expand', summary: 'add one member (learner, start, promote); an even final size is refused unless --allow-even-size',
    cli: {
      node: { flag: '-n, --node <node>', help: 'inventory node to add' },
      allowEvenSize: { flag: '--allow-even-size', help: 'permit an even number of voting members at the end (e.g. the first of two additions)' },
    },
    fields: (v) => ({ add: [v.node], ...(v.allowEvenSize === true ? { allowEvenSize: true } : {}) }),
  },
};
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
