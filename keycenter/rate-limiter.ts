// Rate limits on what strangers can try: sign-in, password-reset mails, join
// requests, and activations by code. Counters live in the store (fixed
// windows), so every portal instance counts the same hits.
import type { KeyCenterContext } from './key-center-context.ts';
import type { RateLimits } from './rate-limits.ts';
import { KeyCenterError } from './key-center-error.ts';

/** Counts one hit of `key` against the limit `name`; RATE_LIMITED (with the seconds to wait) once over it. */
export async function countHit(ctx: KeyCenterContext, name: keyof RateLimits, key: string): Promise<void> {
  const limit = ctx.rateLimits[name];
  const nowMs = ctx.clock();
  const hits = await ctx.store.transaction((q) => q.countHit(`${name}:${key}`, limit.windowMs, nowMs));
  if (hits > limit.hitsMax) {
    const retryAfterSeconds = Math.max(1, Math.ceil((Math.floor(nowMs / limit.windowMs) * limit.windowMs + limit.windowMs - nowMs) / 1000));
    throw new KeyCenterError('RATE_LIMITED', `too many attempts; try again in ${retryAfterSeconds} s`, undefined, retryAfterSeconds);
  }
}
