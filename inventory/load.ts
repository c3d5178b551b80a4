import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import YAML from 'yaml';
import { InventoryError, parseInventory, type Inventory } from './schema';

/** Reads and validates an inventory YAML file. Throws InventoryError (bad fields) or a read/YAML error. */
export function loadInventoryFile(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InventoryError(path, [`cannot read file: ${(e as Error).message}`]);
  }
  const doc = YAML.parse(text, { prettyErrors: true });
  return parseInventory(doc, path);
}

/** SHA-256 (hex) of an inventory file's bytes: lets the worker check it has the same file as the client. */
export function inventoryDigest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Where the worker finds inventories: a list of files and/or directories (each `*.yaml`/`*.yml` in it).
 * Maps cluster name -> file path. Throws on two files for one cluster.
 */
export function indexInventories(paths: string[]): Map<string, string> {
  const index = new Map<string, string>();
  const files = paths.flatMap((p) =>
    statSync(p).isDirectory() ? readdirSync(p).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(p, f)) : [p],
  );
  for (const f of files) {
    const inv = loadInventoryFile(f);
    const prev = index.get(inv.cluster);
    if (prev && prev !== f) throw new Error(`cluster ${inv.cluster} is described twice: ${prev} and ${f}`);
    index.set(inv.cluster, f);
  }
  return index;
}
