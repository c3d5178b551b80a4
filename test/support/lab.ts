import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventoryFile } from '../../inventory/load';
import type { Inventory } from '../../inventory/schema';

const REPO = join(__dirname, '..', '..');
export const LAB = join(REPO, 'lab', 'lab');
// Each jest worker gets a lab of its own (own names and subnet, see lab/common.sh), so test files
// run two at a time. The lab scripts read the id from their environment, passed explicitly: jest
// gives each test file its own copy of process.env, which child_process does not see.
const LAB_ID = process.env.ETCD_RUNBOOKS_LAB_ID ?? String(Math.max(0, Number(process.env.JEST_WORKER_ID ?? '1') - 1) % 10);
export const LAB_STATE = join(process.env.ETCD_RUNBOOKS_STATE ?? join(REPO, '.state'), `lab${LAB_ID === '0' ? '' : LAB_ID}`);
export const INVENTORY = join(LAB_STATE, 'inventory.yaml');
/** The environment for a child process that runs a lab command (`lab/lab`, `etcd-runbooks lab`): this worker's lab id. */
export const LAB_ENV: NodeJS.ProcessEnv = { ...process.env, ETCD_RUNBOOKS_LAB_ID: LAB_ID };

/** Runs `lab/lab ARGS...` (root), returning stdout; throws with stderr on failure. */
export function lab(...args: string[]): string {
  try {
    return execFileSync(LAB, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10 * 60_000, env: LAB_ENV });
  } catch (e) {
    const err = e as Error & { stderr?: string; status?: number };
    throw Object.assign(new Error(`lab ${args.join(' ')} (lab ${LAB_ID}) failed: ${(err.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || err.message}`), { status: err.status });
  }
}

/** A fresh lab: any old one removed, N nodes booted, node1 a 1-member cluster. */
export function freshLab(nodes = 3): Inventory {
  return freshLabWith(nodes, 1);
}

/** etcd versions on a lab: every node's (default: the lab's, 3.6), and per-node exceptions. */
export interface LabEtcd { etcd?: '3.4' | '3.5' | '3.6'; nodeEtcd?: Record<string, '3.4' | '3.5' | '3.6'>; controlPlanes?: string[]; stacked?: boolean; quotaBytes?: number }

/**
 * A fresh lab of `nodes` nodes whose first `members` form a cluster (bootstrapped by the lab);
 * `controlPlanes` become kubeadm control planes (external etcd); `stacked` makes every node a
 * kubeadm control-plane node with etcd as its static pod (the first `members` joined);
 * `quotaBytes` sets every member's backend quota.
 */
export function freshLabWith(nodes: number, members: number, v: LabEtcd = {}): Inventory {
  lab('down');
  lab('up', '--nodes', String(nodes), '--members', String(members),
    ...(v.etcd ? ['--etcd', v.etcd] : []),
    ...Object.entries(v.nodeEtcd ?? {}).flatMap(([node, version]) => ['--node-etcd', `${node}=${version}`]),
    ...(v.controlPlanes ? ['--control-planes', v.controlPlanes.join(',')] : []),
    ...(v.stacked ? ['--stacked'] : []),
    ...(v.quotaBytes ? ['--quota-bytes', String(v.quotaBytes)] : []));
  return loadInventoryFile(INVENTORY);
}

/** Runs a shell command line on a lab node as root (test-side only; the product builds argv). */
export function onNode(node: string, command: string): string {
  return lab('ssh', node, command);
}

/** Like onNode but returns the exit code instead of throwing. */
export function onNodeStatus(node: string, command: string): number {
  try {
    lab('ssh', node, command);
    return 0;
  } catch (e) {
    return (e as { status?: number }).status ?? 1;
  }
}

/** The lab's client certificate, CA and key (host-side copies) for a test's own etcd client. */
export function labClientCredentials() {
  const pki = join(LAB_STATE, 'pki');
  return { rootCertificate: readFileSync(join(pki, 'ca.crt')), certChain: readFileSync(join(pki, 'client.crt')), privateKey: readFileSync(join(pki, 'client.key')) };
}
