/**
 * Remembers ids of requests already acted on for `ttlMs` (at most `max` of them), so a signed
 * request captured and sent again within the signature's freshness window (Slack: 5 minutes) is
 * acted on once. Bounded: the oldest ids go first.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly ttlMs = 10 * 60_000, private readonly max = 10_000) {}

  /** True the first time `id` is seen within the window; false for a replay. */
  first(id: string, now = Date.now()): boolean {
    for (const [k, exp] of this.seen) {
      if (exp > now && this.seen.size < this.max) break;
      this.seen.delete(k);
    }
    const exp = this.seen.get(id);
    if (exp !== undefined && exp > now) return false;
    this.seen.set(id, now + this.ttlMs);
    return true;
  }
}
