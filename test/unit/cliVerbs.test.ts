import type { Command } from 'commander';
import { buildCli } from '../../client/cli';
import { prepareRun, type RunbookCliOptions } from '../../client/prepare';
import { CLI_PRESETS, RUNBOOKS, type RunbookName } from '../../service/catalogue';

/** Parses argv with the real CLI, recording what each verb would start instead of starting it. */
async function started(...argv: string[]) {
  const calls: Array<{ name: RunbookName; o: RunbookCliOptions; fields: Record<string, unknown> }> = [];
  await buildCli(async (name, o, fields) => { calls.push({ name, o, fields }); return 0; }).parseAsync(['node', 'etcd-runbooks', ...argv]);
  expect(calls).toHaveLength(1);
  return calls[0];
}

const verb = (name: string) => buildCli().commands.find((c) => c.name() === name) as Command;

describe('the CLI\'s runbook verbs come from the service\'s catalogue', () => {
  test('one verb per catalogue runbook (and the add-member preset), with an option for each field; required as the schema says', () => {
    const names = buildCli().commands.map((c) => c.name());
    for (const name of [...Object.keys(RUNBOOKS), ...Object.keys(CLI_PRESETS)]) expect(names).toContain(name);
    const mandatory = (v: string) => verb(v).options.filter((o) => o.mandatory).map((o) => o.long).sort();
    expect(mandatory('expand')).toEqual(['--add', '--inventory']);
    expect(mandatory('restore')).toEqual(['--inventory', '--members', '--snapshot']);
    expect(mandatory('recover-quorum')).toEqual(['--inventory', '--members']);
    expect(mandatory('backup')).toEqual(['--inventory']);
  });

  test('option text becomes the fields the service validates: lists, numbers, node:path, flags', async () => {
    expect((await started('expand', '-i', 'lab', '-a', 'node2, node3', '--allow-even-size')).fields).toEqual({ add: ['node2', 'node3'], allowEvenSize: true });
    expect(await started('add-member', '-i', 'lab', '-n', 'node4')).toMatchObject({ name: 'expand', fields: { add: ['node4'] } });
    expect((await started('add-member', '-i', 'lab', '-n', 'node4')).fields).not.toHaveProperty('allowEvenSize');
    expect(await started('add-member', '-i', 'lab', '-n', 'node4', '--allow-even-size')).toMatchObject({ name: 'expand', fields: { add: ['node4'], allowEvenSize: true } });
    expect((await started('restore', '-i', 'lab', '--snapshot', 'node1:/var/backups/a:b.db', '--members', 'node1,node2', '--bump-revision', '0')).fields)
      .toEqual({ snapshot: { node: 'node1', path: '/var/backups/a:b.db' }, members: ['node1', 'node2'], bumpRevision: 0 });
    expect((await started('recover-quorum', '-i', 'lab', '--members', 'node1,node2,node3', '--wait-for-nodes', '600')).fields)
      .toEqual({ members: ['node1', 'node2', 'node3'], waitForNodesSeconds: 600 });
    expect((await started('kube-sync', '-i', 'lab')).fields).toEqual({});
  });

  test('--approval-timeout reaches the fields the run starts with; a bad value is refused naming the field', async () => {
    const c = await started('remove-member', '-i', 'lab', '-n', 'node3', '--approval-timeout', '120');
    expect(prepareRun(c.name, c.o, c.fields)).toMatchObject({ runbook: 'remove-member', cluster: 'lab', fields: { node: 'node3', approvalTimeoutSeconds: 120 } });
    const bad = await started('backup', '-i', 'lab', '--keep', 'seven');
    expect(() => prepareRun(bad.name, bad.o, bad.fields)).toThrow(/^backup: keep: /);
    const even = await started('remove-member', '-i', 'lab', '-n', 'node3', '--approval-timeout', '5');
    expect(() => prepareRun(even.name, even.o, even.fields)).toThrow(/approvalTimeoutSeconds/);
  });

  test('--plan on every runbook verb starts the same run as a dry run', async () => {
    for (const name of [...Object.keys(RUNBOOKS), ...Object.keys(CLI_PRESETS)]) expect(verb(name).options.map((o) => o.long)).toContain('--plan');
    const c = await started('replace', '-i', 'lab', '--failed', 'node3', '--plan');
    expect(prepareRun(c.name, c.o, c.fields)).toMatchObject({ runbook: 'replace', fields: { failed: 'node3', dryRun: true } });
    const real = await started('replace', '-i', 'lab', '--failed', 'node3');
    expect(prepareRun(real.name, real.o, real.fields).fields).not.toHaveProperty('dryRun');
  });
});
