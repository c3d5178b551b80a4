/**
 * Timeouts that follow the database size. Each is a base (process start, TLS, fsync) plus the bytes
 * divided by a floor throughput, capped below the 30-minute start-to-close of the `long` activities
 * that run them (so a hung command fails the attempt instead of outliving it).
 *
 * Floor rates: a quarter or less of what the lab measured on a loaded 2-core machine at 500 MB
 * (docs/runbooks.md, "Large databases"): restore ~90 MB/s, SHA-256 of a snapshot ~250 MB/s, a member opening its
 * database and rebuilding its index ~100 MB/s. A slower disk than a quarter of that is a problem
 * the operator should hear about as a timeout, with the figure in the message.
 */
const MiB = 2 ** 20;

/** Longest any single command may run (25 min). */
export const LONG_COMMAND_CAP_MS = 25 * 60_000;

export const FLOOR_RATES = {
  /** `snapshot restore` writing a new data dir. */
  restoreBytesPerSec: 20 * MiB,
  /** Reading a file end to end (SHA-256 check, `snapshot status`, `snapshot save` over gRPC). */
  readBytesPerSec: 40 * MiB,
  /** etcd starting on an existing database until its client URL serves. */
  startBytesPerSec: 20 * MiB,
} as const;

/** base + bytes / rate, in ms, capped at `cap`. */
export function sizedTimeoutMs(bytes: number, bytesPerSec: number, baseMs: number, cap = LONG_COMMAND_CAP_MS): number {
  return Math.min(cap, Math.ceil(baseMs + (Math.max(0, bytes) / bytesPerSec) * 1000));
}

/** `snapshot restore` of a `bytes` snapshot: 60 s + bytes at 20 MiB/s (8 GiB: ~7.8 min). */
export function restoreTimeoutMs(bytes: number): number {
  return sizedTimeoutMs(bytes, FLOOR_RATES.restoreBytesPerSec, 60_000);
}

/** Reading or hashing `bytes` once (snapshot save, verify, status): 60 s + bytes at 40 MiB/s. */
export function readTimeoutMs(bytes: number): number {
  return sizedTimeoutMs(bytes, FLOOR_RATES.readBytesPerSec, 60_000);
}

/**
 * A member with a `dbBytes` database coming up (started, restored, forced): the old constants
 * (90-120 s) as the base, plus the database at 20 MiB/s. Capped at 25 min.
 */
export function memberStartTimeoutMs(dbBytes: number, baseMs = 120_000): number {
  return sizedTimeoutMs(dbBytes, FLOOR_RATES.startBytesPerSec, baseMs);
}

/**
 * Online defragmentation of a member with a `dbBytes` file (etcd rewrites the used pages into a new
 * file and swaps it in, blocking the member meanwhile): 60 s + the file at the restore floor of
 * 20 MiB/s. Source: etcd docs "Maintenance: Defragmentation".
 */
export function defragTimeoutMs(dbBytes: number): number {
  return sizedTimeoutMs(dbBytes, FLOOR_RATES.restoreBytesPerSec, 60_000);
}
