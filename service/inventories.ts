import { indexInventories, loadInventoryFile } from '../inventory/load';
import type { Inventory } from '../inventory/schema';
import type { InventorySource } from './runs';

/**
 * Inventories by cluster from files or directories (as the worker reads them); re-indexed when a
 * cluster is not found, so a new inventory needs no restart. Throws an Error naming the cluster.
 */
export class InventoryFiles implements InventorySource {
  private index: Map<string, string>;

  constructor(private readonly paths: string[]) {
    this.index = indexInventories(paths);
  }

  load(cluster: string): { inv: Inventory; file: string } {
    if (!this.index.has(cluster)) this.index = indexInventories(this.paths);
    const file = this.index.get(cluster);
    if (!file) throw new Error(`no inventory for cluster ${JSON.stringify(cluster)} (read from ${this.paths.join(', ')})`);
    return { inv: loadInventoryFile(file), file };
  }

  /** The clusters of every inventory, read again from the paths (a new inventory is seen at once). */
  clusters(): string[] {
    this.index = indexInventories(this.paths);
    return [...this.index.keys()].sort();
  }
}

/** One inventory file (the CLI's --inventory): only its own cluster. */
export class InventoryFile implements InventorySource {
  constructor(private readonly file: string) {}

  load(cluster: string): { inv: Inventory; file: string } {
    const inv = loadInventoryFile(this.file);
    if (inv.cluster !== cluster) throw new Error(`${this.file} is the inventory of cluster ${inv.cluster}, not ${cluster}`);
    return { inv, file: this.file };
  }

  clusters(): string[] {
    return [loadInventoryFile(this.file).cluster];
  }
}
