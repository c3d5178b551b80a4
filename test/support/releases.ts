import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB, LAB_ENV } from './lab';
import { editInventory } from './inventoryEdit';

/** Where the tests stage etcd releases on the nodes, as an operator's configuration management would. */
export const RELEASES_DIR = '/opt/etcd-releases';

/** The host directory with etcd, etcdctl and etcdutl of `version` (lab/etcd-build.sh, cached). */
export function releaseBinaries(version: string): string {
  return execFileSync(join(__dirname, '..', '..', 'lab', 'etcd-build.sh'), [`v${version}`], { encoding: 'utf8' }).trim();
}

/** Writes `content` as `<RELEASES_DIR>/v<version>/<name>` on the node (executable, replaced atomically). */
export function stageFile(node: string, version: string, name: string, content: Buffer): void {
  const dir = `${RELEASES_DIR}/v${version}`;
  execFileSync(LAB, ['ssh', node, `mkdir -p ${dir} && cat > ${dir}/${name}.new && chmod 755 ${dir}/${name}.new && mv -f ${dir}/${name}.new ${dir}/${name}`],
    { input: content, env: LAB_ENV, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Stages the real release `version` on every node and names RELEASES_DIR in the inventory's systemd section. */
export function stageRelease(inventory: string, nodes: readonly string[], version: string): void {
  const bins = releaseBinaries(version);
  for (const n of nodes) for (const t of ['etcd', 'etcdctl', 'etcdutl']) stageFile(n, version, t, readFileSync(join(bins, t)));
  editInventory(inventory, (doc) => { doc.systemd = { ...(doc.systemd as object | undefined), releasesDir: RELEASES_DIR }; });
}

/** An `etcd` that answers `--version` as `version` (a pre-flight passes) and exits 1 otherwise: a release that does not start. */
export function brokenEtcd(version: string): Buffer {
  return Buffer.from(`#!/bin/sh\n[ "$1" = --version ] && { echo "etcd Version: ${version}"; exit 0; }\necho broken release >&2\nexit 1\n`);
}

/** The image archive of etcd `version` as kubeadm tags it (`lab.local/etcd:<version>-0`; lab/etcd-image.sh, cached). */
export function etcdImageArchive(version: string): string {
  return join(execFileSync(join(__dirname, '..', '..', 'lab', 'etcd-image.sh'), [`v${version}`], { encoding: 'utf8' }).trim(), 'etcd.tar');
}

/** Imports the etcd image of `version` into containerd on each node, as an operator pre-pulls it (`ctr images import`). */
export function stageImage(nodes: readonly string[], version: string): void {
  const archive = readFileSync(etcdImageArchive(version));
  for (const n of nodes) execFileSync(LAB, ['ssh', n, 'ctr -n k8s.io images import - >/dev/null'], { input: archive, env: LAB_ENV, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Removes the etcd image of `version` from containerd on the node. */
export function unstageImage(node: string, version: string): void {
  execFileSync(LAB, ['ssh', node, `ctr -n k8s.io images rm lab.local/etcd:${version}-0 >/dev/null 2>&1 || true`], { env: LAB_ENV });
}
