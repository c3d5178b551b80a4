import { controlPlaneNames } from '../../inventory/schema';
import type { ClusterOps } from '../cluster';
import { shScript } from '../ssh/quote';
import { memberStatuses, type MemberStatuses } from '../etcd/reads';
import { nodeEtcdTools } from '../etcd/version';
import { clockOffset } from '../node/clock';
import { freeBytes } from '../node/disk';
import { runtimeOf } from '../runtime';
import { judgeCertificate, judgeClocks, judgeDisk, judgeMaxSessions, judgeTools, type DoctorRow } from './checks';

export type { DoctorRow, Verdict } from './checks';

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 160);

/** Runs `check`; a failure to read (SSH, a command) becomes a `fail` row of `what` rather than ending the whole check. */
async function guarded(node: string, what: string, check: () => Promise<DoctorRow[]>): Promise<DoctorRow[]> {
  try {
    return await check();
  } catch (e) {
    return [{ node, check: what, verdict: 'fail', found: firstLine(e), fix: 'see the message; doctor reads only' }];
  }
}

/** Everything doctor checks on one etcd node (member or spare). */
async function checkNode(ops: ClusterOps, node: string, st: MemberStatuses | undefined, dbSize: number, now: Date): Promise<DoctorRow[]> {
  const n = ops.node(node);
  const rows: DoctorRow[] = [];
  try {
    const r = await ops.runOk(node, shScript('command -v curl >/dev/null && echo curl=yes || echo curl=no; echo "maxsessions=$(sshd -T 2>/dev/null | awk \'$1 == "maxsessions" { print $2 }\')"'));
    const facts = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=')));
    rows.push({ node, check: 'ssh', verdict: 'ok', found: `${n.ssh.user}@${n.ssh.host}:${n.ssh.port}, host key pinned` });
    rows.push(facts.curl === 'yes' ? { node, check: 'curl', verdict: 'ok', found: 'installed' }
      : { node, check: 'curl', verdict: 'fail', found: 'not installed (the cluster version is read with it)', fix: 'apt install curl' });
    rows.push(judgeMaxSessions(node, /^[0-9]+$/.test(facts.maxsessions ?? '') ? Number(facts.maxsessions) : undefined));
  } catch (e) {
    return [{ node, check: 'ssh', verdict: 'fail', found: firstLine(e), fix: 'check sshd, the pinned host key and privateKeyPath; SSH loss is not etcd loss: see the etcd row' }, ...await memberRow(ops, node, st)];
  }
  const member = st?.view.members.find((m) => m.name === n.etcd.memberName);
  rows.push(...await memberRow(ops, node, st));
  rows.push(...await guarded(node, 'runtime', async () => {
    const rt = runtimeOf(ops);
    const p = await rt.setupProblem(node, member !== undefined);
    return [p ? { node, check: 'etcd definition', verdict: 'fail', ...p } : { node, check: 'etcd definition', verdict: 'ok', found: `${rt.where}: ${member ? 'in place' : 'ready for a new member'}` }];
  }));
  rows.push(...await guarded(node, 'etcd tools', async () => judgeTools(node, await nodeEtcdTools(ops, node))));
  rows.push(...await guarded(node, 'disk', async () => [
    judgeDisk(node, 'data dir', n.etcd.dataDir, await freeBytes(ops, node, n.etcd.dataDir), dbSize),
    judgeDisk(node, 'backup dir', ops.inv.backupDir, await freeBytes(ops, node, ops.inv.backupDir), dbSize),
  ]));
  const t = ops.inv.tls;
  for (const [role, path] of [['CA', t.caFile], ['server', t.serverCertFile], ['peer', t.peerCertFile], ['client', t.clientCertFile]] as const) {
    rows.push(...await guarded(node, `certificate: ${role}`, async () => {
      const r = await ops.run(node, ['cat', '--', path]);
      return [judgeCertificate(node, role, path, r.exitCode === 0 ? r.stdout : undefined, now)];
    }));
  }
  return rows;
}

/** Whether the node's member serves, from etcd (its client URL), not from SSH. */
async function memberRow(ops: ClusterOps, node: string, st: MemberStatuses | undefined): Promise<DoctorRow[]> {
  const n = ops.node(node);
  if (!st) return [];
  const m = st.view.members.find((x) => x.name === n.etcd.memberName);
  if (!m) return [{ node, check: 'etcd member', verdict: 'ok', found: 'not a member (a spare node for expand, replace or migrate)' }];
  const s = st.statuses.find((x) => x.memberId === m.id);
  if (!s) return [{ node, check: 'etcd member', verdict: 'fail', found: `${m.name} does not answer at ${n.etcd.clientURL}`, fix: 'see etcd\'s log on the node; etcd-runbooks replace --failed if it is lost' }];
  const role = s.isLearner ? 'learner' : s.memberId === st.leader ? 'leader' : 'voter';
  return [{ node, check: 'etcd member', verdict: 'ok', found: `${role}, etcd ${s.version}, raft index ${s.raftIndex}` }];
}

/**
 * `doctor`: every check a runbook's pre-flight would stop on, run on every node of the inventory
 * before any runbook, read-only: SSH with the pinned key, each member serving (asked at its client
 * URL), the runtime's unit or manifest, etcdctl/etcdutl of the server's minor version, curl, free
 * disk of the data dir and backup dir against the database, sshd MaxSessions, clock offset between
 * nodes, expiry of the CA, server, peer and client certificates; the backup host and the control
 * planes answering with their files. One row per check, with the fix for each problem.
 */
export async function runDoctor(ops: ClusterOps, now = new Date()): Promise<DoctorRow[]> {
  const inv = ops.inv;
  const rows: DoctorRow[] = [];
  let st: MemberStatuses | undefined;
  try {
    st = await memberStatuses(ops);
    const known = new Set(inv.nodes.map((n) => n.etcd.memberName));
    for (const m of st.view.members.filter((x) => !known.has(x.name))) {
      rows.push({ node: '-', check: 'membership', verdict: 'warn', found: `member ${m.name || '(unstarted)'} ${m.id} is in no inventory node`, fix: 'add its node to the inventory (inventory discover shows it), or remove the member' });
    }
  } catch (e) {
    rows.push({ node: '-', check: 'cluster', verdict: 'fail', found: firstLine(e), fix: 'no member answers: see each node\'s etcd row; recover-quorum or restore may be needed' });
  }
  const dbSize = Math.max(0, ...(st?.statuses.map((s) => s.dbSize) ?? []));
  const perNode = await Promise.all(inv.nodes.map((n) => checkNode(ops, n.name, st, dbSize, now)));
  // A node SSH did not reach is not asked again for its clock (another connect timeout).
  const reached = inv.nodes.filter((_n, i) => !perNode[i].some((r) => r.check === 'ssh' && r.verdict === 'fail'));
  const clocks = await Promise.all(reached.map((n) => clockOffset(ops, n.name).catch(() => undefined)));
  const clockRows = judgeClocks(clocks.filter((c) => c !== undefined));
  inv.nodes.forEach((n, i) => rows.push(...perNode[i], ...clockRows.filter((r) => r.node === n.name)));
  if (inv.backupHost) {
    const b = inv.backupHost;
    rows.push(...await guarded(b.name, 'backup host', async () => [
      { node: b.name, check: 'backup host', verdict: 'ok', found: `${b.ssh.user}@${b.ssh.host} answers` },
      judgeDisk(b.name, 'off-node copies', b.dir, await freeBytes(ops, b.name, b.dir), dbSize * 2),
    ]));
  }
  const k = inv.kubernetes;
  if (k) {
    for (const cp of controlPlaneNames(inv)) {
      rows.push(...await guarded(cp, 'control plane', async () => {
        const r = await ops.run(cp, shScript('for f in "$@"; do [ -f "$f" ] || echo "$f"; done', k.kubeconfig, k.kubeadmConfig, `${k.manifestsDir}/kube-apiserver.yaml`));
        const missing = r.stdout.trim().split('\n').filter(Boolean);
        return [missing.length
          ? { node: cp, check: 'control plane', verdict: 'fail', found: `missing: ${missing.join(', ')}`, fix: 'the inventory\'s kubernetes section must name files present on every control-plane node' }
          : { node: cp, check: 'control plane', verdict: 'ok', found: 'kubeconfig, kubeadm config file and kube-apiserver manifest present' }];
      }));
    }
  }
  return rows;
}
