import { displayCommand } from '../render/commands';
import type { ChainedEvent } from './chain';

const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells: unknown[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (head: string[], rows: unknown[][]) => (rows.length ? [row(head), row(head.map(() => '---')), ...rows.map(row)].join('\n') : '_none_');

/**
 * The audit record for people, as Markdown: the request, the plan with how each step ended, the
 * approvals, every command (etcdctl's constant TLS flags left out; the JSON keeps them), the
 * evidence and the outcome, then the chain head and the signing key. `events`: verifyChain's output.
 */
export function renderMarkdown(events: ChainedEvent[], signature?: { keyId: string }): string {
  const of = (t: string) => events.filter((e) => e.type === t);
  const run = of('run')[0] ?? {};
  const outcome = of('outcome')[0] ?? {};
  const input = (run.input ?? {}) as Record<string, unknown>;
  const requester = (run.requester ?? {}) as Record<string, unknown>;
  const lines: string[] = [
    `# Audit record: ${cell(run.runbook)} on ${cell(input.cluster)}`,
    '',
    row(['field', 'value']), row(['---', '---']),
    row(['workflow', `${cell(run.workflowId)} run ${cell(run.runId)}`]),
    row(['requested by', `${cell(requester.principal ?? requester.identity)} (${cell(requester.channel)}${requester.method ? `, ${cell(requester.method)}` : ''})`]),
    row(['started', run.startedAt]), row(['closed', outcome.closedAt]),
    row(['outcome', `${cell(outcome.status)}${outcome.runOutcome ? ` (${cell(outcome.runOutcome)})` : ''}`]),
    ...(outcome.message || outcome.detail ? [row(['why', outcome.message || outcome.detail])] : []),
    '',
    '## Request', '', '```json', JSON.stringify(input, null, 2), '```', '',
    '## Plan and how each step ended', '',
    table(['step', 'node', 'status', 'detail'], ((of('plan')[0]?.steps ?? []) as Array<Record<string, unknown>>).map((s) => [s.id, s.node ?? '', s.status, s.detail ?? ''])),
    '',
    '## Approvals, rejections, cancel requests', '',
    table(['decision', 'step', 'question', 'by', 'at', 'how or why'], events.filter((e) => ['approval', 'rejection', 'cancel-requested'].includes(String(e.type))).map((a) => {
      const who = (a.by && typeof a.by === 'object') ? a.by as Record<string, unknown> : undefined;
      const ident = (a.identity ?? who) as Record<string, unknown> | undefined;
      const by = who ? who.principal : a.by;
      const how = a.type === 'approval' ? (a.upFront ? 'up front (--yes)' : ident ? `${cell(ident.method)} via ${cell(ident.channel)}` : 'at the prompt') : a.reason;
      return [a.type === 'approval' ? 'approved' : a.type === 'rejection' ? 'rejected' : 'cancel requested', a.step ?? '', a.question ?? '', by, a.at, how];
    })),
    '',
    '## Commands', '',
    table(['started', 'step', 'attempt', 'node', 'command', 'exit', 'ms', 'output (failures)'], of('command').map((c) => [
      c.startedAt, c.step, c.attempt || '', c.node, displayCommand((c.argv ?? []) as string[]), c.exitCode ?? '-', c.durationMs, c.exitCode === 0 ? '' : c.output,
    ])),
    '',
    '## Evidence', '',
    ...(of('evidence').length ? [] : ['_none_', '']),
    ...of('evidence').flatMap((e) => [`- **${cell(e.step)}** on ${cell(e.node)}:`, '', '  ```json', `  ${JSON.stringify(e.result ?? e.resultExcerpt)}`, '  ```', '']),
  ];
  const leftovers = (outcome.leftovers ?? []) as Array<Record<string, unknown>>;
  if (leftovers.length) lines.push('## Left on nodes', '', table(['node', 'what', 'fix'], leftovers.map((l) => [l.node, l.what, l.fix])), '');
  lines.push('---', '', `${events.length} events; hash chain intact${signature ? `; signed with key ${signature.keyId}` : '; not signed'}.`, '');
  return lines.join('\n');
}
