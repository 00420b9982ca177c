// Cluster time: the `at` a leader stamps into each command, and the date it
// judges license validity by. Lease, session and queue deadlines are
// computed from `at`, so `at` must measure elapsed time, which a step of the
// wall clock (a bad NTP server, an operator, a VM resumed) must not move:
//
// - `at` advances by the monotonic clock, and converges on the wall clock by
//   running at most `slewRatio` faster or slower (5 %: a +60 s step is
//   absorbed in 20 min, during which a 30 s lease lasts at least 28.6 s of
//   real time; a −60 s step stretches it to at most 31.6 s). It never moves
//   back, and never below the last applied `at` (floorMs).
// - A follower re-anchors on every entry it applies from a live leader, so a
//   new leader continues from the last applied `at` plus the time its own
//   monotonic clock saw pass since; it never jumps to its own wall clock.
// - A node that has neither stamped nor followed since its process started
//   (the whole cluster was down: nobody measured the downtime) starts from
//   its wall clock, never below the last applied `at`.
// - The date of a command (license notBefore/expiresAt are dates) is the wall
//   clock, but held within `dateToleranceMs` of `at`: a clock excursion
//   changes which licenses are in force by at most that much, and while it
//   lasts only; the pool re-evaluates the licenses when the date comes back.
//
// Pure: readings come in as arguments (the node reads performance.now() and
// Date.now()), so the simulator and tests drive it with their own clocks.

/** One reading of both clocks, taken together. */
export interface ClockReading {
  /** `ms` of a monotonic clock (performance.now()): never steps; any origin. */
  readonly monoMs: number;
  /** `ms` since the Unix epoch (Date.now()): may step either way. */
  readonly wallMs: number;
}

/** How cluster time follows the wall clock; every replica's leader may use its own. */
export interface ClusterClockOptions {
  /** Fraction by which cluster time may run faster or slower than the monotonic clock while converging on the wall clock (0.05 = 5 %). */
  readonly slewRatio: number;
  /** `ms`: the date used for license validity follows the wall clock at most this far from cluster time. */
  readonly dateToleranceMs: number;
}

/** The time fields a leader stamps into a command. */
export interface TimeStamp {
  /** `ms`: cluster time; deadlines are computed from it. */
  readonly at: number;
  /** `ms` since the epoch: the date licenses are judged at; absent when it is `at` to within DATE_PRECISION_MS. */
  readonly dateMs?: number;
}

/** `ms`: a date this close to `at` is not written (the pool takes `at`): entries stay as they were while clocks agree. */
export const DATE_PRECISION_MS = 1000;

/** Where cluster time stood at a monotonic instant (`atMs` with its fraction). */
interface Anchor {
  readonly atMs: number;
  readonly monoMs: number;
}

/** A leader's (or a future leader's) cluster time. */
export class ClusterClock {
  private readonly options: ClusterClockOptions;
  /** Undefined until this clock stamped or followed a leader (a fresh process). */
  private anchor: Anchor | undefined;

  constructor(options: ClusterClockOptions) {
    if (!(options.slewRatio > 0 && options.slewRatio < 1)) throw new Error(`assert: slewRatio ${options.slewRatio} not in (0, 1)`);
    if (!(options.dateToleranceMs >= 0)) throw new Error(`assert: dateToleranceMs ${options.dateToleranceMs} is negative`);
    this.options = options;
  }

  /** True until the clock has stamped or followed: its first stamp then starts from the wall clock. */
  get fresh(): boolean {
    return this.anchor === undefined;
  }

  /** A follower applied an entry a live leader stamped `atMs`: cluster time continues from there. */
  follow(atMs: number, monoMs: number): void {
    this.anchor = { atMs, monoMs };
  }

  /** `ms`: cluster time at `reading`, never below `floorMs`, without moving the clock (the reaper's now). */
  peek(reading: ClockReading, floorMs: number): number {
    return Math.max(floorMs, Math.floor(this.advance(reading)));
  }

  /** `ms`: how far the wall clock is ahead of cluster time (negative: behind); what slewing still has to absorb. */
  offsetMs(reading: ClockReading, floorMs: number): number {
    return reading.wallMs - this.peek(reading, floorMs);
  }

  /** The leader's stamp for its next command: cluster time (never below `floorMs`) and, when it differs, the date. */
  stamp(reading: ClockReading, floorMs: number): TimeStamp {
    // The anchor keeps the fraction: stamps a fraction of a ms apart must not each lose it.
    const exact = Math.max(floorMs, this.advance(reading));
    this.anchor = { atMs: exact, monoMs: reading.monoMs };
    const at = Math.floor(exact);
    const tolerance = this.options.dateToleranceMs;
    const dateMs = Math.min(at + tolerance, Math.max(at - tolerance, reading.wallMs));
    return Math.abs(dateMs - at) < DATE_PRECISION_MS ? { at } : { at, dateMs };
  }

  /** Cluster time at `reading`: the anchor plus elapsed monotonic time, slewed toward the wall clock. */
  private advance(reading: ClockReading): number {
    const anchor = this.anchor;
    if (anchor === undefined) return reading.wallMs;
    const elapsedMs = Math.max(0, reading.monoMs - anchor.monoMs);
    const free = anchor.atMs + elapsedMs;
    const slewMs = this.options.slewRatio * elapsedMs;
    return free + Math.min(slewMs, Math.max(-slewMs, reading.wallMs - free));
  }
}
