// Where the driver's callbacks and timers run. The driver reads no clock and
// sets no timer but through a DriverScheduler, so the same RaftDriver runs on
// Node's event loop in production (nodeScheduler) and on the deterministic
// simulator's virtual loop (test/sim), where a seed replays every run.

/** A cancellable timer of a DriverScheduler. */
export interface ScheduledTimer {
  cancel(): void;
}

/**
 * Where the driver's callbacks run: Node's event loop in production, a
 * virtual one in the deterministic simulator (test/sim). The driver reads no
 * clock and sets no timer but through it.
 */
export interface DriverScheduler {
  /** Runs `fn` after the current event-loop turn (setImmediate). */
  immediate(fn: () => void): void;
  /** Runs `fn` once after `ms` milliseconds unless cancelled first; must not keep the process alive (the driver's tick deadline). */
  wakeAfter(ms: number, fn: () => void): ScheduledTimer;
  /** Runs `fn` once after `ms` milliseconds unless cancelled first. */
  after(ms: number, fn: () => void): ScheduledTimer;
  /** A monotonic clock, `ms` (for durations only). */
  nowMs(): number;
}

/** Node's event loop: setImmediate, setTimeout (unref'd for wakeAfter), performance.now. */
export const nodeScheduler: DriverScheduler = {
  immediate: (fn) => {
    setImmediate(fn);
  },
  wakeAfter: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
  nowMs: () => performance.now(),
};
