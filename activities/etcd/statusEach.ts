import { PROBE_TIMEOUT, type ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import type { EndpointMembers } from '../../domain/oneCluster';
import { parseEndpointHealth, parseEndpointStatus, parseMemberList, type EndpointHealth, type EndpointStatus } from './parse';

const SEPARATOR = '@@etcd-runbooks-endpoint@@';

/**
 * How long the batched `endpoint status` may wait for each endpoint before the ones it missed are
 * asked again one etcdctl each, in parallel, with the full probe timeout. etcdctl asks the
 * endpoints of a status read one after the other, so a member that accepts TCP but does not answer
 * (frozen, or its TLS stalls) costs this much in the batch; a serving member answers in
 * milliseconds. Measured on the lab: one etcdctl for 3 endpoints, 32 ms wall and 30 ms of CPU,
 * against 66-94 ms and 100 ms of CPU for one etcdctl per endpoint of 4.
 */
const BATCH_STATUS_TIMEOUT = '1s';

/**
 * One command on an observer node: an etcdctl read (`endpoint status`, `endpoint health`) of each
 * URL, outputs separated by SEPARATOR. First every URL's port is tried over TCP, all at once: one
 * that refuses the connection (bash exits 1 at once: nothing listens) is not asked at all; one
 * that does not answer within 2 s (timeout, 124) is still asked. The others are asked by one
 * etcdctl: `endpoint health` asks its endpoints in parallel itself, so a member that does not
 * answer costs one probe timeout in all; `endpoint status` asks them in turn, with
 * BATCH_STATUS_TIMEOUT each, and every endpoint missing from its answer is asked again by an
 * etcdctl of its own, all in parallel, with the probe timeout. Source: etcd etcdctl/ctlv3/command/
 * ep_command.go (status in turn, health in parallel).
 */
function eachArgv(ops: ClusterOps, urls: string[], read: string[]): string[] {
  const flags = ops.etcdctlArgv([], ['-w', 'json', ...read], null).slice(1).filter((a) => !a.startsWith('--endpoints='));
  // status: in turn, so a short limit in the batch and the ones it missed again; health: once.
  const inTurn = read[0] === 'endpoint' && read[1] === 'status';
  return shScript(`
    urls=$1; batched=$2; probe=$3; again=$4; shift 4; d=$(mktemp -d); i=0
    for u in $(printf '%s' "$urls" | tr ',' ' '); do
      i=$((i + 1)); hp=\${u#*://}; hp=\${hp%%/*}; h=\${hp%:*}; h=\${h#\\[}; h=\${h%\\]}; p=\${hp##*:}
      case $p in ''|*[!0-9]*) p= ;; esac
      ( if [ -n "$p" ]; then timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p" 2>/dev/null; [ $? = 1 ] && exit 0; fi
        printf '%s,' "$u" > "$d/open.$i" ) &
    done
    wait
    open=$(cat "$d"/open.* 2>/dev/null); open=\${open%,}
    if [ -n "$open" ]; then
      etcdctl --endpoints="$open" --command-timeout="$batched" "$@" > "$d/batch" 2>/dev/null
      if [ "$again" = yes ]; then
        i=0; got=$(cat "$d/batch")
        for u in $(printf '%s' "$open" | tr ',' ' '); do
          i=$((i + 1))
          case $got in *'"Endpoint":"'"$u"'"'*) continue ;; esac
          etcdctl --endpoints="$u" --command-timeout="$probe" "$@" > "$d/again.$i" 2>/dev/null &
        done
        wait
      fi
      for f in "$d"/batch "$d"/again.*; do if [ -s "$f" ]; then cat "$f"; echo '${SEPARATOR}'; fi; done
    fi
    rm -rf "$d"`, urls.join(','), inTurn ? BATCH_STATUS_TIMEOUT : PROBE_TIMEOUT, PROBE_TIMEOUT, inTurn ? 'yes' : 'no', ...flags);
}

/** The outputs of `read` of each URL that answered, asked from `node` in one SSH command (eachArgv). */
async function eachEndpoint(ops: ClusterOps, node: string, urls: readonly string[], read: string[]): Promise<string[]> {
  if (!urls.length) return [];
  const r = await ops.run(node, eachArgv(ops, [...urls], read), { timeoutMs: 30_000 });
  // etcdctl prints `null` for an endpoint that did not answer.
  return r.stdout.split(SEPARATOR).map((x) => x.trim()).filter((x) => x && x !== 'null');
}

/**
 * `endpoint status` of each URL, asked from `node` in one SSH command with one etcdctl per URL in
 * parallel (eachArgv). Returns the statuses of the endpoints that answered; throws when the node
 * does not answer SSH. Read-only. Source: etcd docs "etcdctl endpoint status".
 */
export async function endpointStatusOfEach(ops: ClusterOps, node: string, urls: readonly string[]): Promise<EndpointStatus[]> {
  return (await eachEndpoint(ops, node, urls, ['endpoint', 'status'])).flatMap((x) => parseEndpointStatus(x));
}

/**
 * `endpoint health` of each URL, asked like endpointStatusOfEach. An endpoint whose port refuses
 * the connection is left out (nothing listens: not healthy), so a stopped member costs nothing
 * instead of etcdctl's dial timeout. Read-only. Source: etcd docs "etcdctl endpoint health".
 */
export async function endpointHealthOfEach(ops: ClusterOps, node: string, urls: readonly string[]): Promise<EndpointHealth[]> {
  return (await eachEndpoint(ops, node, urls, ['endpoint', 'health'])).flatMap((x) => parseEndpointHealth(x));
}

/**
 * `member list` asked of each URL on its own (one etcdctl per URL, all in parallel, from `node` in
 * one SSH command, the probe timeout each): what each endpoint says its cluster is, where etcdctl
 * given several endpoints would ask only the first that answers. Endpoints that do not answer
 * (or refuse: a learner of etcd 3.4) are left out. Read-only. Source: etcd docs "etcdctl member list".
 */
export async function memberListOfEach(ops: ClusterOps, node: string, urls: readonly string[]): Promise<EndpointMembers[]> {
  if (!urls.length) return [];
  const flags = ops.etcdctlArgv([], ['-w', 'json', 'member', 'list'], PROBE_TIMEOUT).slice(1).filter((a) => !a.startsWith('--endpoints='));
  const r = await ops.run(node, shScript(`
    urls=$1; shift; d=$(mktemp -d); i=0
    for u in $(printf '%s' "$urls" | tr ',' ' '); do
      i=$((i + 1)); ( printf '%s\\n' "$u"; etcdctl --endpoints="$u" "$@" 2>/dev/null ) > "$d/$i" &
    done
    wait
    for f in "$d"/*; do cat "$f"; echo '${SEPARATOR}'; done
    rm -rf "$d"`, urls.join(','), ...flags), { timeoutMs: 30_000 });
  return r.stdout.split(SEPARATOR).flatMap((chunk) => {
    const nl = chunk.trim().indexOf('\n');
    if (nl < 0) return [];
    const endpoint = chunk.trim().slice(0, nl);
    try {
      return [{ endpoint, ...parseMemberList(chunk.trim().slice(nl + 1)) }];
    } catch {
      return [];
    }
  });
}
