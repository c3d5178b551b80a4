import type { ClusterOps } from '../cluster';
import { lastLines, PreconditionError, rethrowCancellation } from '../errors';
import { shScript } from '../ssh/quote';
import { runtimeOf } from '../runtime';
import { helpListsBump, type ClusterVersion, lowestMinor, parseHttpVersion, parseToolVersion, snapshotTool, type NodeEtcdTools } from '../../domain/etcdVersion';

/**
 * Prints, in one SSH round trip (after the runtime's line for the etcd it runs: the unit's
 * ExecStart binary, or the static pod's image tag): `etcdctl version`, `etcdutl version` when installed, and the
 * `snapshot restore --help` of the snapshot tool (etcdutl, else etcdctl) between markers.
 */
const TOOLS_SCRIPT = [
  'command -v etcdctl >/dev/null && etcdctl version 2>/dev/null | head -n 1',
  'if command -v etcdutl >/dev/null; then etcdutl version 2>/dev/null | head -n 1; tool=etcdutl; else tool=etcdctl; fi',
  'echo "--- restore help"',
  'command -v "$tool" >/dev/null && "$tool" snapshot restore --help 2>&1 | grep -E -- "--(bump-revision|mark-compacted)"',
  'exit 0',
].join('\n');

/** Per ClusterOps (one activity attempt): nodes whose tools were already read. */
const seen = new WeakMap<ClusterOps, Map<string, NodeEtcdTools>>();

/**
 * The etcd, etcdctl and etcdutl versions on `node` and whether its restore tool can bump the
 * revision. Read once per activity attempt and node. Throws SshError when the node does not answer.
 */
export async function nodeEtcdTools(ops: ClusterOps, node: string): Promise<NodeEtcdTools> {
  let cache = seen.get(ops);
  if (!cache) seen.set(ops, (cache = new Map()));
  const hit = cache.get(node);
  if (hit) return hit;
  const r = await ops.runOk(node, shScript(`${runtimeOf(ops).serverVersionScript}\n${TOOLS_SCRIPT}`));
  const [versions, help = ''] = r.stdout.split('--- restore help');
  const server = parseToolVersion('etcd', versions);
  const etcdctl = parseToolVersion('etcdctl', versions);
  const etcdutl = parseToolVersion('etcdutl', versions);
  const tools: NodeEtcdTools = { ...(server ? { server } : {}), ...(etcdctl ? { etcdctl } : {}), ...(etcdutl ? { etcdutl } : {}), restoreCanBump: helpListsBump(help) };
  cache.set(node, tools);
  return tools;
}

/** The binary that runs `snapshot status|restore` on `node` and its version, e.g. `etcdutl 3.6.16`. */
export async function snapshotToolOn(ops: ClusterOps, node: string): Promise<{ tool: 'etcdutl' | 'etcdctl'; version: string; canBump: boolean }> {
  const t = await nodeEtcdTools(ops, node);
  let tool: 'etcdutl' | 'etcdctl';
  try {
    tool = snapshotTool(node, t);
  } catch (e) {
    throw new PreconditionError((e as Error).message);
  }
  return { tool, version: (tool === 'etcdutl' ? t.etcdutl : t.etcdctl) ?? '?', canBump: t.restoreCanBump };
}

/** Pause before another pass over the client URLs when none reported the cluster version. */
const VERSION_RETRY_MS = 1_000;

/**
 * The cluster version (X.Y.0) as etcd reports it on `/version` of a serving member's client URL,
 * read with curl on `node` using the inventory's client certificate (each client URL in turn; an
 * SSH connection that drops moves on to the next). When no URL reported it, another pass after
 * VERSION_RETRY_MS, up to `passes` passes: under load a dropped SSH connection or a curl that ran
 * out of time is a moment's fault, not an answer. When curl is missing or no member answered, the
 * lowest server version among `memberVersions` (what etcd settles on once every member has
 * reported), marked as estimated, with why the last pass got no answer. Undefined when neither is known.
 */
export async function clusterVersion(ops: ClusterOps, node: string, clientURLs: readonly string[], memberVersions: readonly string[], passes = 2): Promise<ClusterVersion | undefined> {
  const t = ops.inv.tls;
  const estimate = (unanswered: string[]): ClusterVersion | undefined => {
    const low = lowestMinor(memberVersions);
    return low ? { version: low, source: 'estimated', ...(unanswered.length ? { unanswered: unanswered.slice(0, 3) } : {}) } : undefined;
  };
  let unanswered: string[] = [];
  for (let pass = 1; pass <= passes && clientURLs.length; pass++) {
    if (pass > 1) await new Promise((r) => setTimeout(r, VERSION_RETRY_MS));
    unanswered = [];
    for (const url of clientURLs) {
      const argv = ['curl', '-sS', '--max-time', '5', '--cacert', t.caFile, '--cert', t.clientCertFile, '--key', t.clientKeyFile, `${url.replace(/\/+$/, '')}/version`];
      // A dropped SSH connection: the next try reconnects.
      const r = await ops.run(node, argv).catch((e: Error) => {
        rethrowCancellation(e);
        return { exitCode: -1, stdout: '', stderr: `SSH: ${e.message}` };
      });
      if (r.exitCode === 127) return estimate([`${node}: no curl`]);
      const v = r.exitCode === 0 ? parseHttpVersion(r.stdout) : undefined;
      if (v?.cluster) return { version: v.cluster, source: 'etcd' };
      const why = r.exitCode === 0 ? (v ? 'cluster version not decided' : 'not etcd\'s answer') : lastLines(r.stderr, 1) || `exit ${r.exitCode}`;
      unanswered.push(`${url}: ${why}`.slice(0, 160));
    }
  }
  return estimate(unanswered);
}
