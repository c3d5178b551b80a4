import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { inventoryDigest, loadInventoryFile } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';
import type { DoctorRow } from '../../activities';
import { clusterDoctor } from '../../workflows';
import { doctorTable } from '../../render/tables';
import { LAB_ENV, LAB_STATE } from './lab';

const BIN = join(__dirname, '..', '..', 'bin', 'etcd-runbooks');

/**
 * Runs `etcd-runbooks inventory discover` (the CLI as shipped) from `node`'s SSH address with the
 * lab's key and known_hosts; returns the written inventory, its file, and the CLI's stderr.
 * Rejects with the CLI's stderr when it exits non-zero.
 */
export async function discoverLab(inv: Inventory, node: string, extra: string[] = []): Promise<{ file: string; discovered: Inventory; stderr: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'discover-')), 'lab.yaml');
  const host = inv.nodes.find((n) => n.name === node)!.ssh.host;
  const args = ['inventory', 'discover', '--from', `root@${host}`, '--key', join(LAB_STATE, 'ssh', 'id_ed25519'), '--known-hosts', join(LAB_STATE, 'ssh', 'known_hosts'), '--cluster', 'lab', '-o', file, ...extra];
  try {
    const r = await promisify(execFile)(BIN, args, { env: LAB_ENV, timeout: 120_000 });
    return { file, discovered: loadInventoryFile(file), stderr: r.stderr };
  } catch (e) {
    throw new Error(`discover failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
}

/** The discovered nodes hold what the lab wrote for those nodes: SSH pin and address, member name, URLs, data dir. */
export function labNodesOf(inv: Inventory, names: string[]) {
  return names.map((name) => {
    const n = inv.nodes.find((x) => x.name === name)!;
    return { name, ssh: { host: n.ssh.host, port: 22, user: 'root', hostKeyFingerprint: n.ssh.hostKeyFingerprint }, etcd: n.etcd };
  });
}

/** The same, read from a discovered inventory (privateKeyPath left out: it is the key discover was given). */
export function discoveredNodes(inv: Inventory) {
  return inv.nodes.map((n) => ({ name: n.name, ssh: { host: n.ssh.host, port: n.ssh.port, user: n.ssh.user, hostKeyFingerprint: n.ssh.hostKeyFingerprint }, etcd: n.etcd }));
}

/** `doctor` through a worker on `file` (workflows/clusterDoctor.ts); prints its table for the CI log. */
export async function doctorRows(env: { client: Client; taskQueue: string }, file: string): Promise<DoctorRow[]> {
  const rows = await env.client.workflow.execute(clusterDoctor, {
    taskQueue: env.taskQueue, workflowId: `e2e-doctor-${Date.now()}`, args: [{ cluster: 'lab', inventoryDigest: inventoryDigest(file) }],
  });
  console.log(doctorTable(rows));
  return rows;
}

/** Rows that are not ok, as `node check: found` lines (what a failed expectation shows). */
export function problems(rows: DoctorRow[]): string[] {
  return rows.filter((r) => r.verdict !== 'ok').map((r) => `${r.node} ${r.check} ${r.verdict}: ${r.found}`);
}
