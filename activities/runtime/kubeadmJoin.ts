import { stringify } from 'yaml';
import type { ClusterOps } from '../cluster';
import { PreconditionError } from '../errors';
import { shScript } from '../ssh/quote';

const JOIN_TIMEOUT_MS = 10 * 60_000;

/** `kubeadm join HOST:PORT --token T --discovery-token-ca-cert-hash sha256:H` as printed by `kubeadm token create --print-join-command`. */
export function parseJoinCommand(out: string): { endpoint: string; token: string; caCertHash: string } | undefined {
  const m = /kubeadm join (\S+) --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(out);
  return m ? { endpoint: m[1], token: m[2], caCertHash: m[3] } : undefined;
}

/** A control-plane node of the cluster whose etcd pod runs and whose apiserver answers /readyz. */
async function readyControlPlane(ops: ClusterOps, except: string): Promise<string> {
  const k = ops.inv.kubeadm;
  const tried: string[] = [];
  for (const n of ops.inv.nodes) {
    if (n.name === except) continue;
    const r = await ops.run(n.name, shScript('[ -f "$1/etcd.yaml" ] && kubectl --kubeconfig="$2" --request-timeout=3s get --raw /readyz', k.manifestsDir, k.kubeconfig), { timeoutMs: 15_000 }).catch((e: Error) => ({ exitCode: -1, stdout: e.message }));
    if (r.exitCode === 0 && r.stdout.trim() === 'ok') return n.name;
    tried.push(n.name);
  }
  throw new PreconditionError(`no control-plane node with a running etcd pod and a ready apiserver to join through (tried ${tried.join(', ') || 'none'})`);
}

/** Why a node that already has kubeadm's kubelet.conf cannot join (pre-flight and the join itself say the same). */
export function alreadyJoinedProblem(node: string): string {
  return `${node}: already a Kubernetes node (/etc/kubernetes/kubelet.conf) but has no etcd manifest; run kubeadm reset there first`;
}

/**
 * Makes `node` a control-plane node with a stacked etcd member: `kubeadm join --control-plane`,
 * with a bootstrap token (15 min TTL) and a certificate key made on a ready control-plane node in
 * the same activity. The token and key travel only inside this activity: into a 0600 JoinConfiguration
 * given on stdin and removed afterwards; never in argv, workflow history or logs. kubeadm adds the
 * member as a learner unless its peer URL is already a member (the runbook adds the learner first),
 * writes etcd.yaml with the member list, promotes the learner once in sync and waits for the cluster.
 * Refuses a node that already is a Kubernetes node (kubelet.conf present: `kubeadm reset` it first).
 * The token and the uploaded certificates are revoked right after the join (revokeJoinSecrets).
 * Source: kubeadm docs "kubeadm join" (control-plane join, learner mode); reference 001 "Adding a new node".
 */
export async function joinControlPlane(ops: ClusterOps, node: string): Promise<{ via: string }> {
  const k = ops.inv.kubeadm;
  const n = ops.node(node);
  if ((await ops.run(node, ['test', '-e', '/etc/kubernetes/kubelet.conf'])).exitCode === 0) {
    throw new PreconditionError(alreadyJoinedProblem(node));
  }
  const address = new URL(n.etcd.peerURL).hostname.replace(/^\[|\]$/g, '');
  const via = await readyControlPlane(ops, node);
  const key = (await ops.runOk(via, ['kubeadm', 'init', 'phase', 'upload-certs', '--upload-certs'], { timeoutMs: 60_000 })).stdout.trim().split('\n').pop() ?? '';
  if (!/^[0-9a-f]{64}$/.test(key)) throw new PreconditionError(`${via}: kubeadm init phase upload-certs printed no certificate key`);
  const join = parseJoinCommand((await ops.runOk(via, ['kubeadm', 'token', 'create', '--print-join-command', '--ttl', '15m'], { timeoutMs: 60_000 })).stdout);
  if (!join) throw new PreconditionError(`${via}: kubeadm token create printed no join command`);
  const config = stringify({
    apiVersion: 'kubeadm.k8s.io/v1beta4',
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken: { apiServerEndpoint: join.endpoint, token: join.token, caCertHashes: [join.caCertHash] } },
    nodeRegistration: {
      name: n.etcd.memberName,
      criSocket: k.criSocket,
      imagePullPolicy: k.imagePullPolicy,
      ...(k.kubeletNodeIP ? { kubeletExtraArgs: [{ name: 'node-ip', value: address }] } : {}),
    },
    controlPlane: { localAPIEndpoint: { advertiseAddress: address, bindPort: 6443 }, certificateKey: key },
  });
  try {
    await ops.runOk(node, shScript('umask 077; f=$(mktemp); trap \'rm -f "$f"\' EXIT; cat > "$f" && kubeadm join --config "$f" ${1:+--ignore-preflight-errors="$1"}',
      k.ignorePreflightErrors.join(',')), { stdin: config, timeoutMs: JOIN_TIMEOUT_MS });
  } finally {
    await revokeJoinSecrets(ops, via, join.token);
  }
  return { via };
}

/**
 * Revokes what a join needed once it has run (joined or not): the bootstrap token of the join (by
 * its id, the part before the dot: the secret never reaches argv) and the uploaded control-plane
 * certificates, Secret kube-system/kubeadm-certs (encrypted with the certificate key). `kubeadm init
 * phase upload-certs` makes that Secret owned by a short-lived bootstrap token of its own (2 h), so
 * that token is deleted too. Left alone they stay usable for 15 minutes and 2 hours. A revocation
 * that fails is not the join's failure: the next join revokes again, and both expire by themselves.
 * Source: kubeadm docs "kubeadm token" (delete), "kubeadm init phase upload-certs" (the Secret, its
 * owner token and their 2 h TTL).
 */
export async function revokeJoinSecrets(ops: ClusterOps, via: string, token: string): Promise<{ token: boolean; certs: boolean }> {
  const k = ops.inv.kubeadm;
  const id = token.split('.')[0];
  const [t, c] = await Promise.all([
    ops.run(via, ['kubeadm', 'token', 'delete', id, `--kubeconfig=${k.kubeconfig}`], { timeoutMs: 30_000 }).catch(() => ({ exitCode: -1 })),
    ops.run(via, shScript([
      'kc=$1; owners=$(kubectl --kubeconfig="$kc" --request-timeout=10s -n kube-system get secret kubeadm-certs -o "jsonpath={.metadata.ownerReferences[*].name}" 2>/dev/null || true)',
      'kubectl --kubeconfig="$kc" --request-timeout=10s -n kube-system delete secret kubeadm-certs --ignore-not-found || exit 1',
      'for o in $owners; do case $o in bootstrap-token-*) kubectl --kubeconfig="$kc" --request-timeout=10s -n kube-system delete secret "$o" --ignore-not-found;; esac; done',
    ].join('\n'), k.kubeconfig), { timeoutMs: 60_000 }).catch(() => ({ exitCode: -1 })),
  ]);
  return { token: t.exitCode === 0, certs: c.exitCode === 0 };
}
