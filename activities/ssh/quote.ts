/**
 * POSIX shell quoting. Every remote command is built from an argv array; each word is quoted so
 * the remote shell (sshd runs commands through the user's shell) sees exactly that word.
 */
const SAFE = /^[A-Za-z0-9_\-+=.,:/@%]+$/;

/** Quotes one word: unchanged if it holds only safe characters, else single-quoted ('\'' for '). */
export function quoteWord(word: string): string {
  if (word.includes('\0')) throw new Error('a command word cannot contain a NUL byte');
  if (word !== '' && SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one command line safe to hand to a POSIX shell. Throws on an empty argv. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty command');
  return argv.map(quoteWord).join(' ');
}

/**
 * argv that runs a fixed shell script with positional parameters: `sh -c SCRIPT sh ARG...`.
 * Use for pipelines and tests; the script must be a constant and every variable part an ARG.
 */
export function shScript(script: string, ...args: string[]): string[] {
  return ['sh', '-c', script, 'sh', ...args];
}
