import { NameSchema } from '../domain/inputs';
import { RUNBOOKS, SET_BY_SERVICE, type RunbookName } from '../service/catalogue';

/** A chat command, parsed: start a runbook, or approve/reject/status/runs. Validation of the fields is the service's. */
export type ChatCommand =
  | { verb: 'start'; runbook: RunbookName; cluster: string; fields: Record<string, unknown> }
  | { verb: 'status' | 'runs'; cluster: string }
  | { verb: 'accept'; cluster: string; id: string }
  | { verb: 'help' };

const LISTS = new Set(['add', 'members']);
const NUMBERS = new Set(['keep', 'bumpRevision', 'waitForNodesSeconds', 'approvalTimeoutSeconds']);
const BOOLEANS = new Set(['allowEvenSize', 'dryRun']);

/** What `help` answers, in every channel. */
export const CHAT_HELP = [
  'usage: <runbook> <cluster> key=value ...   e.g. expand lab add=node2,node3 | remove-member lab node=node3',
  'plan <runbook> <cluster> key=value ...: pre-flight and the plan only (dry run), nothing changes',
  `runbooks: ${Object.keys(RUNBOOKS).join(', ')}`,
  'also: status <cluster>, runs <cluster>, accept <cluster> <proposal-id>, help. Approve or reject the waiting step on the run\'s message.',
].join('\n');

/**
 * Parses `<runbook> <cluster> key=value ...` (the words after the slash command or `!etcd`):
 * lists comma-separated (`add`, `members`), numbers and booleans by field, `snapshot=node:/path`.
 * Throws an Error naming the word it could not read, and naming any control field (approvedBy,
 * requester, fourEyes, ...: service/catalogue.ts SET_BY_SERVICE) a word tries to set; other unknown
 * fields are left to the service's validation, which names them.
 */
export function parseChatCommand(text: string): ChatCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  // `plan <runbook> ...`: the same start as a dry run (pre-flight and the plan only).
  const dryRun = words[0] === 'plan';
  const [verb, cluster, ...rest] = dryRun ? words.slice(1) : words;
  if (!verb || verb === 'help') return { verb: 'help' };
  if (!cluster || !NameSchema.safeParse(cluster).success) throw new Error(`cluster: "${cluster ?? ''}" is not a cluster name (${CHAT_HELP.split('\n')[0]})`);
  if (verb === 'status' || verb === 'runs') return { verb, cluster };
  if (verb === 'accept') {
    if (rest.length !== 1) throw new Error(`accept: give the proposal's id, e.g. accept ${cluster} member-silent:node3@1764930000000`);
    return { verb, cluster, id: rest[0] };
  }
  if (!(verb in RUNBOOKS)) throw new Error(`unknown runbook "${verb}"; runbooks: ${Object.keys(RUNBOOKS).join(', ')}`);
  const fields: Record<string, unknown> = {};
  for (const w of rest) {
    const i = w.indexOf('=');
    if (i <= 0) throw new Error(`"${w}" is not key=value`);
    const key = w.slice(0, i);
    const value = w.slice(i + 1);
    if ((SET_BY_SERVICE as readonly string[]).includes(key)) throw new Error(`${key}: not a chat word: who asked, who approves and four-eyes come from your chat identity and the access policy`);
    if (LISTS.has(key)) fields[key] = value.split(',').filter(Boolean);
    else if (NUMBERS.has(key)) fields[key] = Number(value);
    else if (BOOLEANS.has(key)) fields[key] = value === 'true' || value === 'yes';
    else if (key === 'snapshot') {
      const j = value.indexOf(':');
      fields.snapshot = { node: value.slice(0, j), path: value.slice(j + 1) };
    } else fields[key] = value;
  }
  return { verb: 'start', runbook: verb as RunbookName, cluster, fields: dryRun ? { ...fields, dryRun: true } : fields };
}
