import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';

/**
 * Writes a file only if its content differs (atomically: temp file, then rename).
 * Returns true when the file changed.
 */
export async function writeFileIfChanged(ops: ClusterOps, node: string, path: string, content: string, mode = '0644'): Promise<boolean> {
  const current = await ops.run(node, ['cat', '--', path]);
  if (current.exitCode === 0 && current.stdout === content) return false;
  await ops.runOk(node, shScript('umask 077; cat > "$1.etcd-runbooks.tmp" && chmod "$2" "$1.etcd-runbooks.tmp" && mv -f "$1.etcd-runbooks.tmp" "$1"', path, mode), { stdin: content });
  return true;
}
