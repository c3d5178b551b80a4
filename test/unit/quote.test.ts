import { execFileSync } from 'node:child_process';
import { quoteWord, shellCommand, shScript } from '../../activities/ssh/quote';

// Runs the quoted command through a real POSIX shell, as sshd does, and returns the argv it saw.
function argvSeenByShell(argv: string[]): string[] {
  const out = execFileSync('sh', ['-c', `${shellCommand(['printf', '%s\\0', ...argv])}`]);
  return out.toString('utf8').split('\0').slice(0, -1);
}

describe('shell quoting', () => {
  test('hostile words reach the command unchanged', () => {
    const words = ['plain', 'with space', "it's", '$(reboot)', '`id`', 'a;b|c&d', '*', '', 'new\nline', '"dq"', '\\back', '-n'];
    expect(argvSeenByShell(words)).toEqual(words);
  });
  test('safe words stay readable in the audit trail', () => {
    expect(shellCommand(['etcdctl', '--endpoints=https://10.0.0.1:2379', 'member', 'list'])).toBe('etcdctl --endpoints=https://10.0.0.1:2379 member list');
    expect(quoteWord("a'b")).toBe(`'a'\\''b'`);
  });
  test('shScript passes variable parts as positional parameters', () => {
    const out = execFileSync('sh', ['-c', shellCommand(shScript('printf %s "$1"', '$(echo pwned)'))]).toString();
    expect(out).toBe('$(echo pwned)');
  });
  test('NUL bytes and empty argv are refused', () => {
    expect(() => quoteWord('a\0b')).toThrow(/NUL/);
    expect(() => shellCommand([])).toThrow(/empty/);
  });
});
