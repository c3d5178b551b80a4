import type { ClusterOps } from '../cluster';
import { PreconditionError, WaitTimeoutError } from '../errors';
import { shScript } from '../ssh/quote';
import { EtcdManifestError, etcdImagesOf, flagValue, manifestCommand, manifestDataDirVolume, manifestImage, setManifestAnnotation, setManifestFlags, setManifestImage } from './manifest';
import { alreadyJoinedProblem, joinControlPlane } from './kubeadmJoin';
import { kubeadmPkiDir, renewKubeadmCerts, restoreKubeadmCerts } from '../node/kubeadmCerts';
import { restartApiserver, runningApiserver } from '../kube/apiserver';
import type { MemberConfigChange, MemberRuntime } from './types';

/** Annotation stamped on every manifest the runbooks write or put back (a new pod UID each time). */
const STAMP = 'etcd-runbooks/written-at';

/** How long kubelet gets to start the etcd pod from a manifest put back before it is restarted. */
const KUBELET_START_MS = 40_000;

/** How long kubelet gets to stop the etcd pod after its manifest left the manifests dir. */
const STOP_TIMEOUT_MS = 100_000;

/** Where the member's manifest is: in the manifests dir (kubelet runs it), fenced aside, or nowhere. */
type ManifestPlace = 'running' | 'fenced' | 'none';

/**
 * The `kubeadm` member runtime: etcd as kubeadm's static pod `etcd.yaml` on a control-plane node.
 * - stop and fence move the manifest out of the manifests dir into `fencedDir` (kubelet stops the
 *   pod and nothing brings it back; reference 001: "remove the static pod"); start moves it back.
 * - the member's configuration is the etcd container's command flags in that manifest
 *   (--initial-cluster, --initial-cluster-state, --initial-cluster-token, --force-new-cluster), edited
 *   wherever the manifest is (reference 001 "Loss of quorum": add the flag, remove it afterwards).
 * - a node with no etcd manifest at all joins with `kubeadm join --control-plane` (runtime/kubeadmJoin.ts).
 * - the running process is read from containerd (`ctr -n k8s.io`), logs from /var/log/pods.
 * etcdctl and etcdutl run as host binaries with the kubeadm PKI named in the inventory's `tls`.
 * Source: reference 001; kubeadm docs "Static Pods", "kubeadm join".
 */
export function kubeadmRuntime(ops: ClusterOps): MemberRuntime {
  const k = ops.inv.kubeadm;
  const manifest = `${k.manifestsDir}/etcd.yaml`;
  const fenced = `${k.fencedDir}/etcd.yaml`;

  const place = async (node: string): Promise<ManifestPlace> => {
    const r = await ops.runOk(node, shScript('if [ -f "$1" ]; then echo running; elif [ -f "$2" ]; then echo fenced; else echo none; fi', manifest, fenced));
    return r.stdout.trim() as ManifestPlace;
  };
  // ctr ORs separate filter arguments; the comma inside one filter ANDs them.
  const runningArgs = async (node: string): Promise<string[] | undefined> => {
    const r = await ops.runOk(node, shScript(`
      running=$(ctr -n k8s.io tasks ls | awk '$3 == "RUNNING" { print $1 }')
      for id in $(ctr -n k8s.io containers ls -q 'labels."io.kubernetes.container.name"==etcd,labels."io.kubernetes.pod.namespace"==kube-system'); do
        if printf '%s\\n' "$running" | grep -qx "$id"; then ctr -n k8s.io containers info "$id"; exit 0; fi
      done`), { timeoutMs: 30_000 });
    if (!r.stdout.trim()) return undefined;
    const info = JSON.parse(r.stdout) as { Spec?: { process?: { args?: string[] } } };
    return info.Spec?.process?.args ?? [];
  };
  const readManifest = async (node: string, where: ManifestPlace) => {
    const path = where === 'running' ? manifest : fenced;
    return { path, text: (await ops.runOk(node, ['cat', '--', path])).stdout };
  };
  /**
   * Writes a manifest atomically through a dot-named temp file (kubelet ignores dot files), stamped
   * so that its pod gets a UID kubelet has not seen (manifest.ts setManifestAnnotation).
   */
  const writeManifest = async (node: string, path: string, text: string) => {
    const dir = path.slice(0, path.lastIndexOf('/'));
    const stamped = setManifestAnnotation(text, STAMP, new Date().toISOString());
    await ops.runOk(node, shScript('umask 077; t="$1/.etcd.yaml.etcd-runbooks"; cat > "$t" && mv -f "$t" "$2"', dir, path), { stdin: stamped });
  };
  /**
   * Waits for kubelet to run the etcd pod of the manifest in the manifests dir. A kubelet that keeps
   * the previous etcd pod of the node "terminating" (seen after a power cut, when that pod's mirror
   * pod cannot be deleted through the node's own apiserver, which is down with its etcd) starts no
   * new one: once the manifest is KUBELET_START_MS old with no etcd container, kubelet is restarted
   * once, which drops that state and starts the static pods from their manifests. The age is read
   * from the manifest's mtime on the node, so that a retried activity (its first attempt lost to a
   * heartbeat timeout or a worker crash after the move) still gets the restart.
   */
  const kubeletRuns = async (node: string) => {
    if (await runningArgs(node)) return;
    const ageMs = 1000 * Number((await ops.runOk(node, shScript('echo $(( $(date +%s) - $(stat -c %Y -- "$1") ))', manifest))).stdout.trim());
    const wait = Math.max(0, KUBELET_START_MS - ageMs);
    const started = wait > 0 && await ops.waitFor(`${node}: kubelet runs the etcd pod`, wait, 1_000, async () => ((await runningArgs(node)) ? true : undefined), () => 'no etcd container yet')
      .catch((e: unknown) => { if (e instanceof WaitTimeoutError) return false; throw e; });
    if (!started) await ops.runOk(node, ['systemctl', 'restart', 'kubelet'], { timeoutMs: 60_000 });
  };
  /** Puts a fenced manifest back into the manifests dir, stamped anew, and waits for kubelet to run it. */
  const unfence = async (node: string) => {
    const m = await readManifest(node, 'fenced');
    await writeManifest(node, fenced, m.text);
    await ops.runOk(node, ['mv', '-f', '--', fenced, manifest]);
    await kubeletRuns(node);
  };
  const stopPod = async (node: string) => {
    await ops.runOk(node, shScript('install -d -m 0700 "$3"; if [ -f "$1" ]; then mv -f -- "$1" "$2"; fi', manifest, fenced, k.fencedDir));
    await ops.waitFor(`${node}: etcd pod stopped`, STOP_TIMEOUT_MS, 1_000, async () => ((await runningArgs(node)) ? undefined : true), () => 'an etcd container still runs');
  };
  /** Where useRelease keeps the image the manifest named before etcd `version`. */
  const imageBefore = (version: string) => `${k.fencedDir}/etcd.image.before-v${version}`;
  /** The images of etcd `version` in containerd on the node, of the repository of `image`, best first. */
  const imagesOf = async (node: string, image: string, version: string) =>
    etcdImagesOf(image, version, (await ops.runOk(node, ['ctr', '-n', 'k8s.io', 'images', 'ls', '-q'], { timeoutMs: 30_000 })).stdout.split('\n').map((l) => l.trim()));
  /** Whether the node's running kube-apiserver started before its etcd client certificate was written (it still holds the previous one). */
  const apiserverOlderThanClientCert = async (node: string) => {
    const api = await runningApiserver(ops, node);
    const written = Number((await ops.runOk(node, ['stat', '-c', '%Y', '--', `${kubeadmPkiDir(ops)}/apiserver-etcd-client.crt`])).stdout.trim());
    return !api || Date.parse(api.createdAt) < written * 1000;
  };
  const edit = async (node: string, flags: Record<string, string | null>) => {
    const where = await place(node);
    if (where === 'none') throw new PreconditionError(`${node}: no etcd manifest (${manifest} or ${fenced})`);
    const m = await readManifest(node, where);
    let out;
    try {
      out = setManifestFlags(m.text, flags, `${node}:${m.path}`);
    } catch (e) {
      if (e instanceof EtcdManifestError) throw new PreconditionError(e.message);
      throw e;
    }
    if (out.changed) await writeManifest(node, m.path, out.text);
    return { path: m.path, changed: out.changed, where };
  };

  return {
    kind: 'kubeadm',
    where: manifest,
    fenced: `manifest in ${k.fencedDir}`,
    dataOwner: 'root',

    async state(node) {
      if (await runningArgs(node)) return 'running';
      return (await place(node)) === 'running' ? 'starting' : 'stopped';
    },

    texts: { fencing: `move etcd's static pod manifest to ${k.fencedDir} (kubelet stops the pod)`, liftFence: `mv ${fenced} ${manifest}`, forceNewClusterAt: `the etcd command in ${manifest} (or ${fenced})` },
    restartEndsPublishStall: false,
    async pkiFromJoin(node) {
      return (await ops.run(node, ['test', '-f', '/etc/kubernetes/kubelet.conf'])).exitCode !== 0;
    },

    async start(node) {
      const where = await place(node);
      if (where === 'none') throw new PreconditionError(`${node}: no etcd manifest to start (${manifest} or ${fenced}); write the member's configuration first`);
      if (where === 'fenced') await unfence(node);
      else await kubeletRuns(node);
    },

    stop: stopPod,
    fence: stopPod,
    // kubelet restarts a static pod only when its manifest changes: out of the manifests dir and back.
    async restart(node) {
      await stopPod(node);
      await unfence(node);
    },

    /**
     * A stacked control-plane node's kube-apiserver reads only its local member (127.0.0.1:2379):
     * with the member removed it would answer every request with errors. So the etcd pod is stopped,
     * its manifest renamed `etcd.yaml.removed-<time>` in fencedDir (the node no longer has a member
     * to start; a later expand joins it anew), and the node's other control-plane static pods are
     * moved into fencedDir too. kubelet, the node's PKI and its Node object stay: the returned text
     * says how to finish (kubeadm docs "kubeadm reset": reset the node, then delete the Node).
     */
    async retire(node) {
      await stopPod(node);
      const r = await ops.runOk(node, shScript(`
        if [ -f "$2/etcd.yaml" ]; then mv -f -- "$2/etcd.yaml" "$2/etcd.yaml.removed-$3"; fi
        for m in kube-apiserver kube-controller-manager kube-scheduler; do
          if [ -f "$1/$m.yaml" ]; then mv -f -- "$1/$m.yaml" "$2/$m.yaml"; fi
          if [ -f "$2/$m.yaml" ]; then echo "$m"; fi
        done`, k.manifestsDir, k.fencedDir, new Date().toISOString().replace(/[^0-9TZ]/g, '')));
      const stopped = r.stdout.trim().split('\n').filter(Boolean);
      if (!stopped.length) return '';
      return `this node's control plane was stopped with its member (${stopped.join(', ')} manifests in ${k.fencedDir}); finish with kubeadm reset -f on ${node} and kubectl delete node ${node}, or join it again (expand) after the reset`;
    },
    // A fenced manifest is a stopped member: there is no third state to release into.
    async release() {},

    async writeConfig(node, change: MemberConfigChange) {
      const n = ops.node(node);
      if ((await place(node)) === 'none') {
        await joinControlPlane(ops, node);
        return { path: `${manifest} (kubeadm join --control-plane)`, changed: true };
      }
      const { text, path } = await readManifest(node, await place(node));
      const cmd = manifestCommand(text, `${node}:${path}`);
      const peer = flagValue(cmd, 'initial-advertise-peer-urls');
      const vol = manifestDataDirVolume(text);
      if (peer !== n.etcd.peerURL) throw new PreconditionError(`${node}: ${path} advertises peer URL ${peer}, the inventory says ${n.etcd.peerURL}`);
      if (vol !== n.etcd.dataDir) throw new PreconditionError(`${node}: ${path} mounts ${vol} as the data dir, the inventory says ${n.etcd.dataDir}`);
      const r = await edit(node, {
        name: n.etcd.memberName,
        'data-dir': n.etcd.dataDir,
        'initial-cluster': change.initialCluster,
        'initial-cluster-state': change.initialClusterState,
        'initial-cluster-token': change.token ?? null,
      });
      return { path: r.path, changed: r.changed };
    },

    async forceNewClusterFlag(node) {
      const where = await place(node);
      const configured = where === 'none' ? false : flagValue(manifestCommand((await readManifest(node, where)).text), 'force-new-cluster') !== undefined;
      const args = await runningArgs(node);
      return { dropIn: configured, inProcess: args ? flagValue(args, 'force-new-cluster') !== undefined : false };
    },

    async setForceNewCluster(node, on, restart) {
      const r = await edit(node, { 'force-new-cluster': on ? '' : null });
      // A changed manifest in the manifests dir restarts the pod by itself (kubelet watches the dir).
      if (restart && r.where === 'fenced') await unfence(node);
    },

    /**
     * A node without an etcd manifest joins with `kubeadm join --control-plane`, whose preflight
     * fails on a node that already belongs to a cluster (kubelet.conf) and on a containerd whose CRI
     * plugin did not load (it answers "unknown service runtime.v1.RuntimeService"; seen when the
     * host's inotify instances ran out at containerd's start). Both are found here, before a learner
     * is added, instead of by the join afterwards. A node with a manifest is not joined: no check.
     */
    async joinProblem(node) {
      if ((await place(node)) !== 'none') return undefined;
      const r = await ops.runOk(node, shScript(`
        if [ -e /etc/kubernetes/kubelet.conf ]; then echo "kubelet.conf"; exit 0; fi
        ctr plugins ls 2>&1 | awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" { print "cri " $4; found = 1 } END { if (!found) print "cri absent" }'`), { timeoutMs: 30_000 });
      const out = r.stdout.trim();
      if (out === 'kubelet.conf') return alreadyJoinedProblem(node);
      if (out !== 'cri ok') return `${node}: containerd's CRI plugin is not serving (ctr plugins ls: ${out || 'no answer'}), so kubeadm join would fail its preflight; see containerd's log there and restart containerd`;
      return undefined;
    },

    async setupProblem(node, member) {
      if (!member) {
        const problem = await this.joinProblem(node);
        return problem ? { found: problem, fix: 'see the message: reset the node (kubeadm reset) or restart containerd' } : undefined;
      }
      const where = await place(node);
      if (where === 'running') return undefined;
      if (where === 'fenced') return { found: `etcd's manifest is in ${k.fencedDir} (fenced by a run)`, fix: `etcd-runbooks cleanup --node ${node} if the run left it, or move it back to ${k.manifestsDir}` };
      return { found: `no etcd.yaml in ${k.manifestsDir}`, fix: 'the member runs elsewhere than kubeadm\'s static pod: check the inventory\'s runtime' };
    },

    async log(node, lines = 15, match) {
      const r = await ops.run(node, shScript('f=$(ls -t /var/log/pods/kube-system_etcd-*/etcd/*.log 2>/dev/null | head -n 1); [ -n "$f" ] && tail -n "$1" -- "$f" | if [ -n "$2" ]; then grep -E -e "$2"; else cat; fi', String(lines), match ?? ''));
      return r.stdout.trim();
    },

    /**
     * The image of etcd `version` must be in containerd (kubelet runs what is there: kubeadm writes
     * imagePullPolicy IfNotPresent) in the repository the manifest names, and its etcd must print
     * that version: run once with `ctr run --rm <image> <id> etcd --version`.
     */
    async releaseProblem(node, version) {
      const where = await place(node);
      if (where === 'none') return `${node}: no etcd manifest (${manifest} or ${fenced})`;
      const text = (await readManifest(node, where)).text;
      const current = manifestImage(text, `${node}:${manifest}`);
      const image = (await imagesOf(node, current, version))[0];
      if (!image) {
        const want = `${current.replace(/@.*$/, '').replace(/:[^:/]+$/, '')}:${version}-0`;
        return `${node}: no image ${want} in containerd (namespace k8s.io); pull it first (crictl pull ${want}) or import it (ctr -n k8s.io images import)`;
      }
      const id = `etcd-runbooks-version-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
      const r = await ops.run(node, ['ctr', '-n', 'k8s.io', 'run', '--rm', image, id, manifestCommand(text)[0] ?? 'etcd', '--version'], { timeoutMs: 60_000 });
      const printed = /etcd Version:\s*(\S+)/.exec(r.stdout)?.[1];
      if (r.exitCode !== 0 || printed !== version) return `${node}: ${image} does not run etcd ${version} (etcd --version in it: ${printed ?? (r.stderr.trim().slice(0, 160) || `exit ${r.exitCode}`)})`;
      return undefined;
    },

    /** Sets the manifest's etcd image (wherever it is) to the `version` image, the one before kept in `fencedDir` for undoRelease. */
    async useRelease(node, version) {
      const where = await place(node);
      if (where === 'none') throw new PreconditionError(`${node}: no etcd manifest (${manifest} or ${fenced})`);
      const m = await readManifest(node, where);
      const current = manifestImage(m.text, `${node}:${m.path}`);
      const images = await imagesOf(node, current, version);
      if (images.includes(current)) return { changed: false };
      if (!images.length) throw new PreconditionError(`${node}: no image of etcd ${version} in containerd`);
      await ops.runOk(node, shScript('install -d -m 0700 "$1"; [ -e "$2" ] || { printf "%s" "$3" > "$2.tmp" && mv -f "$2.tmp" "$2"; }', k.fencedDir, imageBefore(version), current));
      await writeManifest(node, m.path, setManifestImage(m.text, images[0], `${node}:${m.path}`).text);
      return { changed: true };
    },

    async undoRelease(node, version) {
      const before = (await ops.runOk(node, shScript('cat -- "$1" 2>/dev/null || true', imageBefore(version)))).stdout.trim();
      const where = await place(node);
      if (!before || where === 'none') return { changed: false };
      const m = await readManifest(node, where);
      const out = setManifestImage(m.text, before, `${node}:${m.path}`);
      if (out.changed) await writeManifest(node, m.path, out.text);
      await ops.runOk(node, ['rm', '-f', '--', imageBefore(version)]);
      return { changed: out.changed };
    },

    certRenewalProblem: (() => { try { kubeadmPkiDir(ops); return undefined; } catch (e) { return (e as Error).message; } })(),
    certValidity: "kubeadm certs renew: for the ClusterConfiguration's certificateValidityPeriod (--days does not apply)",
    // etcd reads its certificate files on every handshake; the apiserver reads its etcd client's at start.
    async renewCerts(node, _days, tag) {
      const renewed = await renewKubeadmCerts(ops, node, tag);
      if (await apiserverOlderThanClientCert(node)) await restartApiserver(ops, node, k.manifestsDir);
      return renewed;
    },
    async restoreCerts(node, tag) {
      const restored = await restoreKubeadmCerts(ops, node, tag);
      if (restored.includes('client')) await restartApiserver(ops, node, k.manifestsDir);
      return restored;
    },

    // kubeadm tags its etcd image with the etcd version (`etcd:3.6.16-0`): what the pod runs.
    serverVersionScript: `sed -n "s/^ *image: *[^ ]*etcd:v\\{0,1\\}\\([0-9][0-9.]*\\).*/etcd version: \\1/p" ${manifest} ${fenced} 2>/dev/null | head -n 1`,
  };
}
