import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../domain/identity';

/**
 * Registers the project's custom search attributes (all Keyword, domain/identity.ts) in
 * `namespace` when missing. Idempotent; called by the worker before it polls (a workflow that
 * upserts an unregistered attribute would fail its task) and by the API at start.
 * Errors: the OperatorService's, e.g. the server's limit of custom attributes.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((name) => !known.has(name));
  if (!missing.length) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((n) => [n, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  } catch (e) {
    // Another process registered them between the list and the add.
    if (!/already exists/i.test(String((e as Error).message))) throw e;
  }
}
