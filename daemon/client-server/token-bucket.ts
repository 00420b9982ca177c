// A token bucket: the rate limits of the client protocol (per connection,
// per remote address, and the over-limit allowance before a close).
// `ratePerSecond` tokens accrue per second up to `capacity`; each request takes one.

/** One rate limiter. */
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
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket holds its whole capacity again (nothing taken lately). */
  get full(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.clock();
    if (now > this.lastMs) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.lastMs) * this.ratePerSecond) / 1000);
      this.lastMs = now;
    }
  }
}
