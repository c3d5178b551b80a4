import { writeFileSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../inventory/schema';
import { inventoryDigest } from '../../inventory/load';
import { backupCluster } from '../../workflows';
import { freshLabWith, lab, LAB_STATE, onNode } from '../support/lab';
import { startRun, startWorkerAndClient } from '../support/temporal';
import { discoveredNodes, discoverLab, doctorRows, labNodesOf, problems } from '../support/onboard';

jest.setTimeout(10 * 60_000);

// Onboarding on the lab's systemd topology (issue 29, Deliver 5): 4 nodes, node1..node3 a
// 3-member cluster, node4 a spare. `inventory discover` from node1 alone, then `doctor` and a
// backup through a worker that knows only the discovered inventory, unchanged.
describe('inventory discover and doctor (systemd)', () => {
  let inv: Inventory;
  let found: Awaited<ReturnType<typeof discoverLab>>;
  let env: Awaited<ReturnType<typeof startWorkerAndClient>> | undefined;

  beforeAll(() => {
    inv = freshLabWith(4, 3);
  });
  afterAll(async () => {
    await env?.stop();
    if (!process.env.ETCD_RUNBOOKS_KEEP_LAB) lab('down');
  });

  test('discover from node1 writes the members the lab wrote: host keys, URLs, data dirs, TLS, unit; node4 (no member) left out', async () => {
    const started = Date.now();
    found = await discoverLab(inv, 'node1');
    console.log(`discover: ${Date.now() - started} ms (CLI start included)\n${readFileSync(found.file, 'utf8')}`);
    const d = found.discovered;
    expect(d.runtime).toBe('systemd');
    expect(d.systemd).toEqual(inv.systemd);
    expect(d.tls).toEqual(inv.tls);
    expect(d.backupDir).toBe(inv.backupDir);
    expect(d.kubernetes).toBeUndefined();
    expect(discoveredNodes(d)).toEqual(labNodesOf(inv, ['node1', 'node2', 'node3']));
    expect(readFileSync(found.file, 'utf8')).toMatch(/# member [0-9a-f]+ \(leader\), etcd 3\.6\.\d+, read from etcd\.service \+ \/etc\/default\/etcd/);
  });

  test('a host key the known_hosts file does not list is refused, naming the key', async () => {
    const kh = join(mkdtempSync(join(tmpdir(), 'kh-')), 'known_hosts');
    writeFileSync(kh, readFileSync(join(LAB_STATE, 'ssh', 'known_hosts'), 'utf8').split('\n').filter((l) => l.startsWith(`${inv.nodes[0].ssh.host} `)).join('\n'));
    const node2 = inv.nodes.find((n) => n.name === 'node2')!;
    await expect(discoverLab(inv, 'node1', ['--known-hosts', kh])).rejects.toThrow(`${node2.ssh.host}:22 presents ${node2.ssh.hostKeyFingerprint}, which ${kh} does not list`);
  });

  test('doctor through a worker on the discovered inventory: every check ok; SSH-only and etcd-only loss each named on its own row', async () => {
    env = await startWorkerAndClient([found.file]);
    const rows = await doctorRows(env, found.file);
    expect(problems(rows)).toEqual([]);
    for (const node of ['node1', 'node2', 'node3']) {
      expect(rows.filter((r) => r.node === node).map((r) => r.check).sort()).toEqual([
        'certificate: CA', 'certificate: client', 'certificate: peer', 'certificate: server', 'clock', 'curl', 'disk: backup dir', 'disk: data dir',
        'etcd definition', 'etcd member', 'etcdctl', 'etcdutl', 'ssh', 'sshd MaxSessions']);
    }
    lab('block', 'node2', 'ssh');
    lab('block', 'node3', 'etcd');
    try {
      const faulty = await doctorRows(env, found.file);
      const verdict = (node: string, check: string) => faulty.find((r) => r.node === node && r.check === check)?.verdict;
      expect(verdict('node2', 'ssh')).toBe('fail');
      expect(verdict('node2', 'etcd member')).toBe('ok');
      expect(verdict('node3', 'ssh')).toBe('ok');
      expect(verdict('node3', 'etcd member')).toBe('fail');
      expect(problems(faulty).filter((p) => !/^node[23] /.test(p))).toEqual([]);
    } finally {
      lab('unblock', 'node2');
      lab('unblock', 'node3');
    }
  });

  test('a backup runs on the discovered inventory unchanged', async () => {
    const r = await (await startRun(env!, backupCluster, { cluster: 'lab', inventoryDigest: inventoryDigest(found.file), approvedBy: 'e2e' })).result();
    const leaderNode = r.node;
    expect(['node1', 'node2', 'node3']).toContain(leaderNode);
    expect(onNode(leaderNode, `test -s ${r.path} && echo present`).trim()).toBe('present');
  });
});
