import { renderMemberEnvironment } from '../../domain/memberConfig';
import type { ClusterOps } from '../cluster';
import { CERT_KINDS, renewCertificate, restoreCertificate } from '../node/certs';
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
  // Last in the lexical order of drop-ins, so its ExecStart wins over the package's and an operator's.
  const releaseDropIn = `/etc/systemd/system/${unit}.d/zz-etcd-runbooks-release.conf`;
  const { releasesDir } = ops.inv.systemd;
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

    async releaseProblem(node, version) {
      if (!releasesDir) return 'the inventory names no systemd.releasesDir (a directory on every node holding v<version>/etcd, etcdctl and etcdutl)';
      const bin = `${releasesDir}/v${version}/etcd`;
      const r = await ops.run(node, shScript('[ -x "$1" ] || { echo "missing: $1"; exit 0; }; "$1" --version 2>&1 | head -n 1', bin));
      const line = r.stdout.trim();
      if (line.startsWith('missing:')) return `${node}: ${bin} is missing or not executable`;
      const m = /^etcd Version:\s*(\S+)/i.exec(line);
      if (!m) return `${node}: ${bin} does not run: ${line.slice(0, 120) || `exit ${r.exitCode}`}`;
      if (m[1].replace(/^v/, '') !== version) return `${node}: ${bin} is etcd ${m[1]}, not ${version}`;
      return undefined;
    },

    // ExecStart keeps the unit's own arguments (Debian: `$DAEMON_ARGS`), with the release's binary.
    // What was there before (an earlier release's drop-in, or none) is kept beside it for undoRelease;
    // systemd reads only `*.conf` there.
    async useRelease(node, version) {
      const r = await ops.runOk(node, shScript([
        'args=$(systemctl show -p ExecStart --value "$1" | sed -n "s/.*argv\\[\\]=[^ ]* *\\(.*\\) ; ignore_errors=.*/\\1/p" | head -n 1)',
        'want=$(printf "[Service]\\nExecStart=\\nExecStart=%s %s\\n" "$3" "$args")',
        '[ -e "$2" ] && [ "$(cat -- "$2")" = "$want" ] && { echo same; exit 0; }',
        'mkdir -p -- "$(dirname -- "$2")" || exit',
        'if [ ! -e "$4" ] && [ ! -e "$4.none" ]; then if [ -e "$2" ]; then cp -p -- "$2" "$4"; else : > "$4.none"; fi || exit; fi',
        'printf "%s\\n" "$want" > "$2.tmp" && mv -f -- "$2.tmp" "$2" && systemctl daemon-reload && echo changed',
      ].join('\n'), unit, releaseDropIn, `${releasesDir}/v${version}/etcd`, `${releaseDropIn}.before-v${version}`));
      return { changed: r.stdout.trim() === 'changed' };
    },

    async undoRelease(node, version) {
      const r = await ops.runOk(node, shScript([
        'if [ -e "$2" ]; then mv -f -- "$2" "$1"; elif [ -e "$2.none" ]; then rm -f -- "$1" "$2.none"; else echo same; exit 0; fi || exit',
        'systemctl daemon-reload && echo changed',
      ].join('\n'), releaseDropIn, `${releaseDropIn}.before-v${version}`));
      return { changed: r.stdout.trim() === 'changed' };
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

    certRenewalProblem: ops.inv.certificateAuthority ? undefined : 'the inventory names no certificateAuthority (CA certificate and key on the worker host) to sign renewed certificates with',
    certValidity: undefined,
    async renewCerts(node, days, tag) {
      const renewed = [];
      for (const kind of CERT_KINDS) renewed.push(await renewCertificate(ops, node, kind, days, tag));
      return renewed;
    },
    async restoreCerts(node, tag) {
      const restored: string[] = [];
      for (const kind of CERT_KINDS) if ((await restoreCertificate(ops, node, kind, tag)).restored) restored.push(kind);
      return restored;
    },

    serverVersionScript: [
      `bin=$(systemctl show -p ExecStart --value ${unit} 2>/dev/null | sed -n "s/^{ path=\\([^ ;]*\\).*/\\1/p" | head -n 1)`,
      '[ -x "$bin" ] || bin=$(command -v etcd || true)',
      '[ -n "$bin" ] && "$bin" --version 2>/dev/null | head -n 1 | sed "s/^etcd Version:/etcd version:/"',
    ].join('\n'),
  };
}
