// Reconnect delays: exponential growth capped at a maximum, with "full
// jitter" (a uniform draw below the cap), so the clients of a server that
// died do not all land on the next server in the same millisecond.

/** Backoff settings; all durations in ms. */
export interface BackoffOptions {
  /** `ms`: the cap of the first retry's delay; doubles for every further retry. */
  readonly backoffBaseMs: number;
  /** `ms`: the largest delay ever waited. */
  readonly backoffMaxMs: number;
}

/**
 * The delay in `ms` before retry number `attempt` (0 for the first retry):
 * a draw in [0, min(backoffMaxMs, backoffBaseMs · 2^attempt)).
 * `random` returns a number in [0, 1) (injected so tests can fix it).
 */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  const capMs = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** exponent);
  return Math.floor(random() * capMs);
}
