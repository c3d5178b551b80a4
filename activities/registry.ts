import { inventoryDigest, indexInventories, loadInventoryFile } from '../inventory/load';
import type { Inventory } from '../inventory/schema';
import { PreconditionError } from './errors';

/**
 * The worker's inventories, by cluster name. Files are indexed at start-up and re-read on every
 * activity call, so an edited inventory applies to the next step without a restart.
 */
export class InventoryRegistry {
  private index: Map<string, string>;

  constructor(private readonly paths: string[]) {
    this.index = indexInventories(paths);
  }

  /** The cluster names of every inventory, indexed again (an inventory added since start counts). */
  clusters(): string[] {
    this.index = indexInventories(this.paths);
    return [...this.index.keys()].sort();
  }

  /** Loads the cluster's inventory; with `digest`, refuses if the worker's file differs from the client's. */
  load(cluster: string, digest?: string): Inventory {
    let file = this.index.get(cluster);
    if (!file) {
      this.index = indexInventories(this.paths);
      file = this.index.get(cluster);
    }
    if (!file) throw new PreconditionError(`this worker has no inventory for cluster ${JSON.stringify(cluster)} (it reads ${this.paths.join(', ')})`);
    if (digest && inventoryDigest(file) !== digest) {
      throw new PreconditionError(`the worker's inventory ${file} differs from the one the run was started with; use the same file on both`);
    }
    return loadInventoryFile(file);
  }
}
