import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inventory } from '../inventory/schema';
import { LAB_STATE } from '../test/support/lab';

/** The shell facts file of bench/floor/lib.sh, from the lab's inventory. */
export function writeFacts(inv: Inventory): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [
    `SSH_KEY=${q(inv.nodes[0].ssh.privateKeyPath)}`, `KNOWN_HOSTS=${q(join(LAB_STATE, 'ssh', 'known_hosts'))}`,
    `CA=${q(inv.tls.caFile)}`, `CERT=${q(inv.tls.clientCertFile)}`, `KEY=${q(inv.tls.clientKeyFile)}`,
    `SERVER_CERT=${q(inv.tls.serverCertFile)}`, `SERVER_KEY=${q(inv.tls.serverKeyFile)}`,
    `PEER_CERT=${q(inv.tls.peerCertFile)}`, `PEER_KEY=${q(inv.tls.peerKeyFile)}`,
    `ENV_FILE=${q(inv.systemd.environmentFile)}`, `UNIT=${q(inv.systemd.unit)}`, `BACKUP_DIR=${q(inv.backupDir)}`,
    `NODES=${q(inv.nodes.map((n) => n.name).join(' '))}`,
    ...(inv.systemd.releasesDir ? [`RELEASES_DIR=${q(inv.systemd.releasesDir)}`] : []),
    ...(inv.certificateAuthority ? [`CA_CERT_HOST=${q(inv.certificateAuthority.certFile)}`, `CA_KEY_HOST=${q(inv.certificateAuthority.keyFile)}`] : []),
    ...inv.nodes.flatMap((n) => [
      `ADDR_${n.name}=${q(n.ssh.host)}`, `NAME_${n.name}=${q(n.etcd.memberName)}`, `PEER_${n.name}=${q(n.etcd.peerURL)}`,
      `CLIENT_${n.name}=${q(n.etcd.clientURL)}`, `DATA_${n.name}=${q(n.etcd.dataDir)}`,
    ]),
  ];
  const file = join(LAB_STATE, 'floor.env');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
