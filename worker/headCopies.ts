import type { InventoryRegistry } from '../activities/registry';
import type { SshPool } from '../activities/ssh/session';
import type { PublishHead } from '../audit/offHost';

/** The log of a cluster's signed chain heads on its backup host, under the inventory's `backupHost.dir`. */
export const headLogPath = (dir: string, cluster: string): string => `${dir}/audit/chain-heads-${cluster}.jsonl`;

/**
 * PublishHead to the cluster's backup host (the inventory's `backupHost`, the place off-node
 * snapshot copies go): appends the signed head as one line to headLogPath over SSH (host key
 * pinned), owner-only. Appending keeps every head ever sent; restrict the key there to this
 * command (authorized_keys `command=`) to make the log write-only for the worker.
 * 'no place' when the cluster has no inventory here or no backup host.
 */
export function headCopier(registry: InventoryRegistry, pool: SshPool): PublishHead {
  return async (cluster, signedHead) => {
    let host;
    try { host = registry.load(cluster).backupHost; } catch { return 'no place'; }
    if (!host) return 'no place';
    const log = headLogPath(host.dir, cluster);
    const r = await pool.session(host.name, host.ssh).exec(
      ['sh', '-c', 'umask 077 && mkdir -p "${1%/*}" && cat >> "$1"', 'sh', log], { stdin: `${signedHead}\n`, timeoutMs: 15_000 },
    );
    if (r.exitCode !== 0) throw new Error(`${host.name}: appending to ${log} exited ${r.exitCode}: ${r.stderr.trim().slice(0, 300)}`);
    return 'stored';
  };
}
