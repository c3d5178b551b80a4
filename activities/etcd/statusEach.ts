import { PROBE_TIMEOUT, type ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { parseEndpointHealth, parseEndpointStatus, type EndpointHealth, type EndpointStatus } from './parse';

const SEPARATOR = '@@etcd-runbooks-endpoint@@';

/**
 * One command on an observer node: an etcdctl read (`endpoint status`, `endpoint health`) of each
 * URL by its own etcdctl, all at once,
 * outputs separated by SEPARATOR. A member that does not answer costs one probe timeout in all,
 * not one per endpoint in turn (etcdctl asks a list of endpoints one after the other), and a port
 * that refuses the connection from the observer (bash exits 1 at once: nothing listens) is not
 * asked at all; one that does not answer within 2 s (timeout, 124) is still asked by etcdctl.
 */
function eachArgv(ops: ClusterOps, urls: string[], read: string[]): string[] {
  const flags = ops.etcdctlArgv([], ['-w', 'json', ...read], PROBE_TIMEOUT).slice(1).filter((a) => !a.startsWith('--endpoints='));
  return shScript(`
    urls=$1; shift; d=$(mktemp -d); i=0
    for u in $(printf '%s' "$urls" | tr ',' ' '); do
      i=$((i + 1)); hp=\${u#*://}; hp=\${hp%%/*}; h=\${hp%:*}; h=\${h#\\[}; h=\${h%\\]}; p=\${hp##*:}
      case $p in ''|*[!0-9]*) p= ;; esac
      ( if [ -n "$p" ]; then timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p" 2>/dev/null; [ $? = 1 ] && exit 0; fi
        etcdctl --endpoints="$u" "$@" > "$d/$i" 2>/dev/null ) &
    done
    wait
    for f in "$d"/*; do if [ -s "$f" ]; then cat "$f"; echo '${SEPARATOR}'; fi; done
    rm -rf "$d"`, urls.join(','), ...flags);
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
