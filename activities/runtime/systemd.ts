import { renderMemberEnvironment } from '../../domain/memberConfig';
import type { ClusterOps } from '../cluster';
import { writeFileIfChanged } from '../node/files';
import { shScript } from '../ssh/quote';
import type { MemberConfigChange, MemberRuntime, MemberState } from './types';

/** `systemctl is-active` output as a MemberState (`reloading` still serves; `deactivating` is on its way down). */
export function systemdState(isActive: string): MemberState {
  if (isActive === 'active' || isActive === 'reloading') return 'running';
  if (isActive === 'activating') return 'starting';
  if (isActive === 'failed') return 'failed';
  return 'stopped';
}

/**
 * The `systemd` member runtime: Debian's etcd.service (`EnvironmentFile=-/etc/default/etcd`), its
 * settings in the environment file, --force-new-cluster as a drop-in setting
 * ETCD_FORCE_NEW_CLUSTER, a fence as `disable --now` plus `mask --runtime` (gone at reboot, so a
 * node never stays masked by accident). Source: reference 004 (drop-ins, environment file);
 * 003 (etcd must not come up before the restore).
 */
export function systemdRuntime(ops: ClusterOps): MemberRuntime {
  const { unit, environmentFile, etcdUser } = ops.inv.systemd;
  const dropIn = `/etc/systemd/system/${unit}.d/etcd-runbooks-force-new-cluster.conf`;
  const stop = async (node: string) => {
    await ops.runOk(node, ['systemctl', 'disable', '--now', '--quiet', unit], { timeoutMs: 100_000 });
  };
  return {
    kind: 'systemd',
    where: unit,
    fenced: 'masked',
    dataOwner: etcdUser,

    async state(node) {
      return systemdState((await ops.run(node, ['systemctl', 'is-active', unit])).stdout.trim());
    },

    texts: { fencing: 'stop, disable and mask etcd', liftFence: `systemctl unmask --runtime ${unit}`, forceNewClusterAt: `the drop-in ${dropIn}` },
    restartEndsPublishStall: true,
    async pkiFromJoin() { return false; },

    async start(node) {
      // etcd starts before anything slow: a member started soon after its add joins faster
      // (etcd/startMember.ts). Only a runtime mask (a fence) is lifted first (unmask reloads
      // systemd, a few hundred ms), and a reload runs first only when a unit file or drop-in
      // changed on disk. Enabling follows the start, without a reload: it only links the unit for
      // the next boot, which loads unit files anew.
      await ops.runOk(node, shScript([
        'st=$(systemctl is-enabled "$1" 2>/dev/null)',
        'if [ "$st" = masked-runtime ]; then systemctl unmask --runtime --quiet "$1" || exit; fi',
        '[ "$(systemctl show -p NeedDaemonReload --value "$1")" != yes ] || systemctl daemon-reload || exit',
        'systemctl start --no-block "$1" || exit',
        '[ "$st" = enabled ] || systemctl enable --quiet --no-reload "$1"',
      ].join('\n'), unit));
    },

    stop,

    async restart(node) {
      await ops.runOk(node, ['systemctl', 'restart', '--no-block', unit]);
    },

    async fence(node) {
      await ops.runOk(node, shScript('systemctl disable --now --quiet "$1" && systemctl mask --runtime --quiet "$1"', unit), { timeoutMs: 100_000 });
    },

    // The unit stays disabled; the package's unit file and environment file stay for a later join.
    async retire(node) {
      await stop(node);
      return '';
    },

    async release(node) {
      await ops.runOk(node, ['systemctl', 'unmask', '--runtime', '--quiet', unit]);
    },

    async writeConfig(node, change: MemberConfigChange) {
      const n = ops.node(node);
      const content = renderMemberEnvironment({
        name: n.etcd.memberName, peerURL: n.etcd.peerURL, clientURL: n.etcd.clientURL, dataDir: n.etcd.dataDir,
        initialCluster: change.initialCluster, initialClusterState: change.initialClusterState, tls: ops.inv.tls,
        ...(change.token !== undefined ? { token: change.token } : {}), settings: ops.inv.memberSettings,
      });
      return { path: environmentFile, changed: await writeFileIfChanged(ops, node, environmentFile, content) };
    },

    async forceNewClusterFlag(node) {
      const r = await ops.runOk(node, shScript(
        'd=no; [ -e "$2" ] && d=yes; p=$(systemctl show -p MainPID --value "$1"); e=no; [ "${p:-0}" != 0 ] && tr "\\0" "\\n" < /proc/$p/environ | grep -q "^ETCD_FORCE_NEW_CLUSTER=" && e=yes; echo "$d $e"',
        unit, dropIn));
      const [d, e] = r.stdout.trim().split(' ');
      return { dropIn: d === 'yes', inProcess: e === 'yes' };
    },

    async setForceNewCluster(node, on, restart) {
      const write = on
        ? 'mkdir -p "$(dirname "$2")" && printf "[Service]\\nEnvironment=ETCD_FORCE_NEW_CLUSTER=true\\n" > "$2" && systemctl unmask --runtime --quiet "$1" && systemctl daemon-reload'
        : 'rm -f -- "$2" && systemctl daemon-reload';
      await ops.runOk(node, shScript(`${write}${restart ? ' && systemctl restart --no-block "$1"' : ''}`, unit, dropIn));
    },

    // The package's unit, environment file and TLS files are checked by inspectNodes itself.
    async joinProblem() { return undefined; },

    async setupProblem(node, member) {
      const r = await ops.runOk(node, shScript('systemctl show -p LoadState --value "$1"; [ -f "$2" ] && echo env || echo noenv', unit, environmentFile));
      const [load, env] = r.stdout.trim().split('\n');
      if (load !== 'loaded') return { found: `${unit} is ${load || 'unknown'} (not installed)`, fix: `install etcd's package (Debian: apt install etcd-server), or name the unit in the inventory's systemd.unit` };
      if (member && env !== 'env') return { found: `${environmentFile} is missing`, fix: `the member's settings belong in ${environmentFile} (systemd.environmentFile in the inventory)` };
      return undefined;
    },

    async log(node, lines = 15, match) {
      const r = await ops.run(node, shScript('journalctl -u "$1" -n "$2" --no-pager -o cat | if [ -n "$3" ]; then grep -E -e "$3"; else cat; fi', unit, String(lines), match ?? ''));
      return r.stdout.trim();
    },

    serverVersionScript: [
      `bin=$(systemctl show -p ExecStart --value ${unit} 2>/dev/null | sed -n "s/^{ path=\\([^ ;]*\\).*/\\1/p" | head -n 1)`,
      '[ -x "$bin" ] || bin=$(command -v etcd || true)',
      '[ -n "$bin" ] && "$bin" --version 2>/dev/null | head -n 1 | sed "s/^etcd Version:/etcd version:/"',
    ].join('\n'),
  };
}
