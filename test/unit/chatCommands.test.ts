import { parseChatCommand } from '../../chat/commands';

describe('chat commands', () => {
  test('a runbook with its fields: lists, numbers, booleans and a snapshot', () => {
    expect(parseChatCommand(' expand lab add=node2,node3 allowEvenSize=true ')).toEqual({ verb: 'start', runbook: 'expand', cluster: 'lab', fields: { add: ['node2', 'node3'], allowEvenSize: true } });
    expect(parseChatCommand('restore prod snapshot=node1:/var/backups/a.db members=node1,node2,node3 bumpRevision=0')).toEqual({
      verb: 'start', runbook: 'restore', cluster: 'prod', fields: { snapshot: { node: 'node1', path: '/var/backups/a.db' }, members: ['node1', 'node2', 'node3'], bumpRevision: 0 },
    });
    expect(parseChatCommand('backup lab keep=3')).toMatchObject({ fields: { keep: 3 } });
  });

  test('plan: the same start as a dry run', () => {
    expect(parseChatCommand('plan replace lab failed=node3')).toEqual({ verb: 'start', runbook: 'replace', cluster: 'lab', fields: { failed: 'node3', dryRun: true } });
    expect(parseChatCommand('replace lab failed=node3')).toEqual({ verb: 'start', runbook: 'replace', cluster: 'lab', fields: { failed: 'node3' } });
  });

  test('status, runs and help', () => {
    expect(parseChatCommand('status lab')).toEqual({ verb: 'status', cluster: 'lab' });
    expect(parseChatCommand('runs lab')).toEqual({ verb: 'runs', cluster: 'lab' });
    expect(parseChatCommand('')).toEqual({ verb: 'help' });
  });

  test('accept names the cluster and one proposal id', () => {
    expect(parseChatCommand('accept lab member-silent:node3@1764930000000')).toEqual({ verb: 'accept', cluster: 'lab', id: 'member-silent:node3@1764930000000' });
    expect(() => parseChatCommand('accept lab')).toThrow(/^accept: give the proposal's id/);
    expect(() => parseChatCommand('accept lab a@1 b@2')).toThrow(/^accept: give the proposal's id/);
  });

  test('refusals name the word', () => {
    expect(() => parseChatCommand('explode lab')).toThrow(/unknown runbook "explode"/);
    expect(() => parseChatCommand('expand Lab_1 add=node2')).toThrow(/cluster: "Lab_1"/);
    expect(() => parseChatCommand('expand lab node2')).toThrow(/"node2" is not key=value/);
  });

  // Insider finding 1: a chat word must not set who approved, who asked or four-eyes.
  test('control fields are refused by name, never passed on to the service', () => {
    expect(() => parseChatCommand('remove-member prod node=node3 approvedBy=alice')).toThrow(/^approvedBy: not a chat word/);
    expect(() => parseChatCommand('remove-member prod node=node3 requester=bob')).toThrow(/^requester: not a chat word/);
    expect(() => parseChatCommand('restore prod fourEyes=false members=node1')).toThrow(/^fourEyes: not a chat word/);
    expect(() => parseChatCommand('backup prod authority=x')).toThrow(/^authority: not a chat word/);
  });
});
