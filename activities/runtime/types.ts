import type { ClusterOps } from '../cluster';
import type { RuntimeTexts } from '../../domain/recovery';
import type { Renewed } from '../node/certs';

export type { RuntimeTexts };

/**
 * The member's configuration a runbook writes: the values that differ between joining a running
 * cluster (`existing`, initial cluster = every member) and bootstrapping a restored one (`new`,
 * initial cluster = itself, the restore's token). Name, URLs, data dir and TLS come from the inventory.
 * Source: etcd docs "Configuration flags", "Runtime reconfiguration: add a new member".
 */
export interface MemberConfigChange {
  /** name=peerURL,... of every member including this one. */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  /** --initial-cluster-token, for a member that bootstraps a new cluster (restore). */
  token?: string;
}

/** Whether --force-new-cluster is configured (drop-in or manifest) and whether the running etcd has it. */
export interface ForceNewClusterFlag { dropIn: boolean; inProcess: boolean }

/**
 * The state of a member's process on its node, in neutral terms (each runtime maps its own):
 * `running` (the process runs and is ready: systemd `active`; kubeadm: the etcd container runs the
 * manifest's command), `starting` (systemd `activating`; kubeadm: manifest in place, no container
 * yet), `failed` (systemd `failed`), `stopped` (anything else: stopped, fenced, not installed).
 */
export type MemberState = 'running' | 'starting' | 'stopped' | 'failed';


/**
 * How etcd runs on a node, and how a runbook starts, stops, fences and configures it. Workflows and
 * safety checks reach a member's process only through this interface; the inventory's `runtime`
 * picks the implementation for the whole cluster:
 * - `systemd` (runtime/systemd.ts): Debian's etcd.service, an environment file, drop-ins.
 * - `kubeadm` (runtime/kubeadm.ts): the static pod `etcd.yaml` kubelet runs on a control-plane node.
 * Every method is idempotent. Methods throw SshError when the node does not answer.
 */
export interface MemberRuntime {
  readonly kind: 'systemd' | 'kubeadm';
  /** Where the member's process is defined, for messages (`etcd.service`, `/etc/kubernetes/manifests/etcd.yaml`). */
  readonly where: string;
  /** What a fence looks like on the node, for progress lines (`masked`, `manifest in <fencedDir>`). */
  readonly fenced: string;
  /** Owner of the data dir (chown after a restore): the unit's user, or root for the static pod. */
  readonly dataOwner: string;
  /** The member's process state (MemberState). */
  state(node: string): Promise<MemberState>;
  /** The runtime's fence and --force-new-cluster in words, for plan titles and leftovers' fixes. */
  readonly texts: RuntimeTexts;
  /**
   * Whether a restart is a safe way out of a join stalled publishing itself (etcd/startMember.ts):
   * true under systemd; false for a static pod, whose restart moves the manifest out and back, and
   * kubelet may keep the stopped pod while the node's own apiserver is down with its etcd (seen in
   * CI: 'etcd pod stopped' not reached within 100 s).
   */
  readonly restartEndsPublishStall: boolean;
  /**
   * Whether joining a member on this node brings its TLS files (kubeadm join --control-plane
   * fetches the kubeadm PKI: true on a node that has not joined yet), so that missing files are
   * no pre-flight problem. Read-only.
   */
  pkiFromJoin(node: string): Promise<boolean>;
  /** Lifts a fence and starts etcd without waiting for readiness (checked through etcd afterwards). */
  start(node: string): Promise<void>;
  /** Stops etcd so that a boot does not start it again; waits until the process is gone. */
  stop(node: string): Promise<void>;
  /** Restarts a running or starting etcd without waiting for readiness (for a joining member that stalled). */
  restart(node: string): Promise<void>;
  /** Stops etcd and keeps everything (a boot, kubelet, an operator's restart) from starting it until `start`. */
  fence(node: string): Promise<void>;
  /**
   * The node's member was removed from the cluster (or its join undone): stops etcd for good, so that
   * nothing starts it again with that membership, and returns what the operator still has to do on
   * the node ('' when nothing). Idempotent. systemd: disabled and stopped. kubeadm: see runtime/kubeadm.ts.
   */
  retire(node: string): Promise<string>;
  /** Lifts a fence without starting etcd. */
  release(node: string): Promise<void>;
  /** Writes the member's configuration. Returns the file written and whether it changed. */
  writeConfig(node: string, change: MemberConfigChange): Promise<{ path: string; changed: boolean }>;
  /** Whether --force-new-cluster is configured and whether the running etcd carries it. Read-only. */
  forceNewClusterFlag(node: string): Promise<ForceNewClusterFlag>;
  /** Adds (`on`) or removes --force-new-cluster and, when `restart`, restarts etcd so it takes effect. */
  setForceNewCluster(node: string, on: boolean, restart: boolean): Promise<void>;
  /**
   * What keeps this node from starting a new member through this runtime, read-only, for pre-flight
   * (before anything in the cluster changes). Undefined: nothing known. systemd has no such check;
   * kubeadm checks what `kubeadm join --control-plane` needs (runtime/kubeadm.ts).
   */
  joinProblem(node: string): Promise<string | undefined>;
  /**
   * What is missing on the node for this runtime to run its member (`member`: the node's member is
   * in the cluster) or to start one (a spare node), read-only, with the operator's fix; undefined
   * when nothing is. systemd: the unit (and, for a member, its environment file); kubeadm: the
   * manifest in the manifests dir (a member), or what `joinProblem` finds (a spare).
   */
  setupProblem(node: string, member: boolean): Promise<{ found: string; fix: string } | undefined>;
  /**
   * The last `lines` lines of etcd's log, for error messages (TLS errors show only there) and
   * stall checks; with `match` (an extended regular expression), only those of them that match,
   * filtered on the node so that only they cross the connection.
   */
  log(node: string, lines?: number, match?: string): Promise<string>;
  /**
   * What keeps the node from running etcd `version` through this runtime, read-only, for an
   * upgrade's pre-flight: the release missing, or not runnable, or printing another version;
   * undefined when it is ready. systemd: `<releasesDir>/v<version>/etcd --version`. kubeadm: the
   * image `<repository>:<version>-<n>` in containerd, `etcd --version` run in it once.
   */
  releaseProblem(node: string, version: string): Promise<string | undefined>;
  /**
   * Points the member's process definition at etcd `version`, without starting or stopping it,
   * keeping what it pointed at before for `undoRelease`. Returns whether anything changed.
   * systemd: a drop-in overriding ExecStart with the release's binary, daemon-reloaded. kubeadm:
   * the etcd image of the static pod manifest (kubelet restarts a pod whose manifest changed).
   */
  useRelease(node: string, version: string): Promise<{ changed: boolean }>;
  /** Undoes `useRelease(node, version)`: back to what the process definition named before it. Idempotent. */
  undoRelease(node: string, version: string): Promise<{ changed: boolean }>;
  /**
   * Why `rotate-certs` cannot renew this runtime's certificates, or undefined when it can. systemd:
   * the inventory names no certificateAuthority (the CA on the worker host that signs them);
   * kubeadm: the inventory's TLS files are not in kubeadm's certificate dir.
   */
  readonly certRenewalProblem: string | undefined;
  /** How renewal sets the validity, for plan titles, when not by `--days` (kubeadm: its own period). */
  readonly certValidity: string | undefined;
  /**
   * Renews the node's member certificates (server, peer, client; kubeadm also its probe's client),
   * each previous one kept as `<file>.before-<tag>`, and restarts what reads them only at start
   * (kubeadm: the node's kube-apiserver, for its etcd client certificate; etcd itself reads its
   * files on every handshake). Idempotent. systemd: node/certs.ts; kubeadm: node/kubeadmCerts.ts.
   */
  renewCerts(node: string, days: number, tag: string): Promise<Renewed[]>;
  /** Puts back what renewCerts(node, …, tag) replaced (and restarts what reads it); returns the kinds put back. Idempotent. */
  restoreCerts(node: string, tag: string): Promise<string[]>;
  /** A shell snippet printing `etcd version: X.Y.Z` for the etcd this runtime runs (one line, or nothing). */
  readonly serverVersionScript: string;
}

/** Builds the runtime for one activity attempt. */
export type RuntimeFactory = (ops: ClusterOps) => MemberRuntime;
