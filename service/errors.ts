/**
 * A refusal of the service layer, with the kind the API maps to an HTTP status (and the CLI and
 * chat print as is): invalid 400, unauthenticated 401, forbidden 403, not-found 404, conflict 409,
 * unavailable 503 (Temporal cannot be reached; try again).
 */
export type ServiceErrorKind = 'invalid' | 'unauthenticated' | 'forbidden' | 'not-found' | 'conflict' | 'unavailable';

export class ServiceError extends Error {
  constructor(readonly kind: ServiceErrorKind, message: string) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** True for errors meaning Temporal did not answer (gRPC UNAVAILABLE/DEADLINE_EXCEEDED, connection refused). */
export function isUnavailable(e: unknown): boolean {
  const err = e as { code?: number; message?: string; cause?: unknown } | undefined;
  if (!err) return false;
  if (err.code === 14 || err.code === 4) return true;
  if (/ECONNREFUSED|UNAVAILABLE|Failed to connect|No connection established|Deadline exceeded/i.test(err.message ?? '')) return true;
  return err.cause ? isUnavailable(err.cause) : false;
}

/** The gRPC status code of a Temporal error or of one of its causes. */
export function grpcCode(e: unknown): number | undefined {
  const err = e as { code?: unknown; cause?: unknown } | undefined;
  if (!err) return undefined;
  if (typeof err.code === 'number') return err.code;
  return grpcCode(err.cause);
}

/** The type and message of a run's failure (innermost ApplicationFailure). */
export function failureOf(e: unknown): { type: string; message: string; end?: 'undone' | 'safe point' } {
  let cur = e as { cause?: unknown; type?: string; message?: string; details?: unknown[] } | undefined;
  let found: { type: string; message: string; end?: 'undone' | 'safe point' } = { type: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) };
  while (cur) {
    if (cur.type || (cur as Error).name === 'CancelledFailure') {
      const end = (cur.details?.[0] as { end?: unknown } | undefined)?.end;
      found = { type: cur.type ?? 'Cancelled', message: cur.message ?? '', ...(end === 'undone' || end === 'safe point' ? { end } : {}) };
    }
    cur = cur.cause as typeof cur;
  }
  return found;
}
