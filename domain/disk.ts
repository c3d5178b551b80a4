/** WAL segments etcd preallocates in a fresh data dir (64 MiB each; etcd docs "Hardware recommendations"). */
export const WAL_RESERVE_BYTES = 64 * 1024 * 1024;
