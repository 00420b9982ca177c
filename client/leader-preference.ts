// When a client moves its session to the leader the servers name, and when
// it leaves well alone. The move itself (a second socket, a resuming hello,
// the switch) is FloeClient's; this file holds the limits that keep it from
// flapping or looping:
//
// - a leader URL that fails (unreachable from here: behind NAT only some
//   URLs work; a full server; a hello refused) is not tried again before a
//   backoff that grows fourfold per failure up to LEADER_RETRY_MS_MAX, so a
//   client that cannot reach the leader stays where it is and tries again a
//   few times an hour at most;
// - moves are a token bucket: LEADER_MOVES_BURST at once, then one per
//   LEADER_MOVE_REFILL_MS, so a leader that changes often moves each client
//   a bounded number of times;
// - a move that follows a leader change waits a random part of `spreadMs`
//   (the session's heartbeat interval, at most LEADER_MOVE_SPREAD_MS_MAX), so
//   a cluster's clients reach a new leader spread over about one heartbeat
//   round instead of all in the same millisecond.

import { TokenBucket } from '../protocol/token-bucket.ts';

/** Moves allowed at once before the refill rate applies. */
export const LEADER_MOVES_BURST = 3;
/** `ms` to earn one more move once the burst is spent. */
export const LEADER_MOVE_REFILL_MS = 30_000;
/** `ms`: the first wait before a leader URL that failed is tried again; ×4 per further failure. */
export const LEADER_RETRY_MS_BASE = 1_000;
/** `ms`: the longest wait before a leader URL that keeps failing is tried again. */
export const LEADER_RETRY_MS_MAX = 10 * 60_000;
/** `ms`: the longest random delay before a move that follows a leader change. */
export const LEADER_MOVE_SPREAD_MS_MAX = 10_000;
/** Failed leader URLs remembered, at most (the oldest record is dropped). */
const FAILED_URLS_MAX = 64;

/** The move limits of one client. */
export class LeaderPreference {
  readonly #random: () => number;
  /** Moves that may start: LEADER_MOVES_BURST at once, then one per LEADER_MOVE_REFILL_MS. */
  readonly #moves = new TokenBucket(1000 / LEADER_MOVE_REFILL_MS, LEADER_MOVES_BURST);
  /** Per leader URL that failed: how often in a row, and the earliest `ms` it may be tried again. */
  readonly #failed = new Map<string, { failures: number; notBeforeMs: number }>();

  /** `random`: a number in [0, 1) (jitter; tests inject their own). */
  constructor(random: () => number) {
    this.#random = random;
  }

  /**
   * `ms` to wait from `nowMs` before moving to `url`: 0 at once, more while
   * it is backing off or the move budget is spent, plus a random part of
   * `spreadMs`.
   */
  waitMs(url: string, nowMs: number, spreadMs: number): number {
    const failed = this.#failed.get(url);
    const backoffMs = failed === undefined ? 0 : Math.max(0, failed.notBeforeMs - nowMs);
    const budgetMs = this.#moves.msUntilToken(nowMs);
    const jitterMs = Math.floor(this.#random() * Math.min(Math.max(spreadMs, 0), LEADER_MOVE_SPREAD_MS_MAX));
    return Math.max(backoffMs, budgetMs) + jitterMs;
  }

  /** A move starts at `nowMs`: it spends a token. False when none is left (the caller waits `waitMs` again). */
  take(nowMs: number): boolean {
    return this.#moves.take(nowMs);
  }

  /** The move to `url` failed at `nowMs`: back off before trying it again. */
  failed(url: string, nowMs: number): void {
    const failures = (this.#failed.get(url)?.failures ?? 0) + 1;
    const capMs = Math.min(LEADER_RETRY_MS_MAX, LEADER_RETRY_MS_BASE * 4 ** Math.min(failures - 1, 10));
    // Half fixed, half jitter: never a tight loop, and clients that failed together retry apart.
    this.#remember(url, failures, nowMs + capMs / 2 + this.#random() * (capMs / 2));
  }

  /** Stay away from `url` for LEADER_RETRY_MS_MAX from `nowMs` (it refused what the application asked). */
  avoid(url: string, nowMs: number): void {
    this.#remember(url, 10, nowMs + LEADER_RETRY_MS_MAX);
  }

  /** The session moved to `url`: its failures are forgotten. */
  succeeded(url: string): void {
    this.#failed.delete(url);
  }

  /** Records `url`'s failures as the newest entry, dropping the oldest past FAILED_URLS_MAX. */
  #remember(url: string, failures: number, notBeforeMs: number): void {
    this.#failed.delete(url);
    this.#failed.set(url, { failures, notBeforeMs });
    if (this.#failed.size > FAILED_URLS_MAX) this.#failed.delete(this.#failed.keys().next().value as string);
  }
}
