/**
 * etcd member IDs are uint64. JavaScript numbers hold integers exactly only up to 2^53, and
 * etcdctl 3.4 `-w json` prints IDs as bare JSON numbers (lab notes), so an ID must never pass
 * through `number`. Everywhere in this project an ID is a lowercase hex string without leading
 * zeros, which is also what `etcdctl member remove|promote|move-leader` accept.
 */
export type MemberId = string & { readonly __brand: 'MemberId' };

const UINT64_MAX = (1n << 64n) - 1n;

/** Converts a uint64 given as bigint or as a decimal digit string to a MemberId. Throws on anything else. */
export function memberIdFrom(value: bigint | string): MemberId {
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (/^[0-9]+$/.test(value)) n = BigInt(value);
  else throw new Error(`member ID must be a decimal uint64, got ${JSON.stringify(value)}`);
  if (n < 0n || n > UINT64_MAX) throw new Error(`member ID out of uint64 range: ${n}`);
  return n.toString(16) as MemberId;
}
