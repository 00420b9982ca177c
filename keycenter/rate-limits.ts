// The rate limits of the key center: what strangers may try how often, per
// key (an address, an e-mail, a code). rate-limiter.ts counts the hits.

/** A limit: at most `hitsMax` hits per `windowMs` for one key (an address, an e-mail, a code). */
export interface RateLimit {
  readonly hitsMax: number;
  readonly windowMs: number;
}

const MINUTE_MS = 60_000;

/** The limits of the key center, by what they protect. */
export interface RateLimits {
  readonly signInPerAddress: RateLimit;
  readonly signInPerEmail: RateLimit;
  readonly passwordResetPerAddress: RateLimit;
  readonly passwordResetPerEmail: RateLimit;
  readonly joinRequestPerAddress: RateLimit;
  readonly activationPerAddress: RateLimit;
  readonly activationPerCode: RateLimit;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  signInPerAddress: { hitsMax: 30, windowMs: 5 * MINUTE_MS },
  signInPerEmail: { hitsMax: 10, windowMs: 15 * MINUTE_MS },
  passwordResetPerAddress: { hitsMax: 10, windowMs: 60 * MINUTE_MS },
  passwordResetPerEmail: { hitsMax: 3, windowMs: 60 * MINUTE_MS },
  joinRequestPerAddress: { hitsMax: 10, windowMs: 60 * MINUTE_MS },
  activationPerAddress: { hitsMax: 60, windowMs: MINUTE_MS },
  activationPerCode: { hitsMax: 10, windowMs: MINUTE_MS },
};

/** How long counters are kept after their window, ms. */
export const RATE_LIMIT_RETENTION_MS = 24 * 60 * MINUTE_MS;
