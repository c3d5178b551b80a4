import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';

/** `systemctl is-active` of the member's unit: active, inactive, failed, activating, ... */
export async function serviceState(ops: ClusterOps, node: string): Promise<string> {
  const r = await ops.run(node, ['systemctl', 'is-active', ops.inv.systemd.unit]);
  return r.stdout.trim() || 'unknown';
}

/**
 * Unmask (a fence), daemon-reload, enable, then start without waiting for readiness (a joining
 * learner may take a while to notify systemd; readiness is checked through etcd afterwards). Idempotent.
 */
export async function startService(ops: ClusterOps, node: string): Promise<void> {
  const unit = ops.inv.systemd.unit;
  await ops.runOk(node, shScript('systemctl unmask --runtime --quiet "$1" && systemctl daemon-reload && systemctl enable --quiet "$1" && systemctl start --no-block "$1"', unit));
}

/** Stops the unit and disables it so it cannot start on boot with stale settings. Idempotent. */
export async function stopService(ops: ClusterOps, node: string): Promise<void> {
  await ops.runOk(node, ['systemctl', 'disable', '--now', '--quiet', ops.inv.systemd.unit], { timeoutMs: 100_000 });
}

/** The last lines of the member's journal, for error messages (TLS errors only show there). */
export async function serviceLog(ops: ClusterOps, node: string, lines = 15): Promise<string> {
  const r = await ops.run(node, ['journalctl', '-u', ops.inv.systemd.unit, '-n', String(lines), '--no-pager', '-o', 'cat']);
  return r.stdout.trim();
}

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
