// A token bucket: the per-connection rate limit of the client protocol.
// `ratePerSecond` tokens accrue per second up to `capacity`; each request takes one.

/** Rate limiter of one connection. */
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    /** Tokens added per second. */
    private readonly ratePerSecond: number,
    /** Most tokens held (the burst). */
    private readonly capacity: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.lastMs = clock();
  }

  /** Takes one token; false when none is left (the request is refused). */
  take(): boolean {
    const now = this.clock();
    if (now > this.lastMs) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.lastMs) * this.ratePerSecond) / 1000);
      this.lastMs = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
