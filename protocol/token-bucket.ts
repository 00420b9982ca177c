// A token bucket: the rate limits of the client protocol on the server (per
// connection, per remote address, and the over-limit allowance before a
// close) and, in the SDK, how often a session may move to a new leader.
// `ratePerSecond` tokens accrue per second up to `capacity`; each use takes one.
//
// Every method reads the clock given at construction unless the caller
// passes the `nowMs` it already read (the SDK's leader moves do, so one
// decision uses one instant).

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
  take(nowMs = this.clock()): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** `ms` from `nowMs` until a token is there to take: 0 when one is there now. */
  msUntilToken(nowMs = this.clock()): number {
    this.refill(nowMs);
    if (this.tokens >= 1) return 0;
    // Rounded up to whole ms, less float noise (1 - 2/3 tokens at 1/30 s reads 10000.000000000002).
    return Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond - 1e-6);
  }

  /** True when the bucket holds its whole capacity again (nothing taken lately). */
  get full(): boolean {
    this.refill(this.clock());
    return this.tokens >= this.capacity;
  }

  /** Adds what accrued since `lastMs`. A clock stepped back adds nothing and becomes the new reference, so it cannot freeze the bucket until the clock catches up. */
  private refill(nowMs: number): void {
    const elapsedMs = nowMs - this.lastMs;
    if (elapsedMs > 0) this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs * this.ratePerSecond) / 1000);
    this.lastMs = nowMs;
  }
}
