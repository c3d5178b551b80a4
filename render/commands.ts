const CONSTANT_FLAGS = /^--(cacert|cert|key|dial-timeout|command-timeout)=/;

/**
 * A command for a table (the CLI's history, the audit record's Markdown): etcdctl without its
 * constant TLS and timeout flags; the JSON keeps all.
 */
export function displayCommand(argv: string[]): string {
  const a = argv[0] === 'env' && argv[1] === 'ETCDCTL_API=3' ? argv.slice(2) : argv;
  return a.filter((w) => !CONSTANT_FLAGS.test(w)).join(' ');
}
