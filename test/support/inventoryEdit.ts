import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { LAB_STATE } from './lab';

/** Rewrites the inventory file through `edit` (the parsed YAML document), as an operator would edit it. */
export function editInventory(inventory: string, edit: (doc: Record<string, unknown>) => void): void {
  const doc = YAML.parse(readFileSync(inventory, 'utf8')) as Record<string, unknown>;
  edit(doc);
  writeFileSync(inventory, YAML.stringify(doc));
}

/**
 * The lab's CA as a head node keeps it (lab/pki.sh made it): copied into a directory only root may
 * enter, the key mode 0600, and named in the inventory's `certificateAuthority`.
 */
export function headNodeCA(inventory: string): { certFile: string; keyFile: string } {
  const dir = join(LAB_STATE, 'head-ca');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  copyFileSync(join(LAB_STATE, 'pki', 'ca.crt'), ca.certFile);
  copyFileSync(join(LAB_STATE, 'pki', 'ca.key'), ca.keyFile);
  chmodSync(ca.keyFile, 0o600);
  editInventory(inventory, (doc) => { doc.certificateAuthority = ca; });
  return ca;
}
