/** Median of a non-empty list of numbers (the mean of the middle two for an even count); NaN if empty. */
export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Seconds with two decimals, from milliseconds. */
export const secs = (ms: number) => (ms / 1000).toFixed(2);
