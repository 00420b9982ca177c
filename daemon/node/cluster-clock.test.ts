import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockStepWatch } from './clock-step-watch.ts';
import { ClusterClock, DATE_PRECISION_MS } from './cluster-clock.ts';

const DAY_MS = 86_400_000;
const T0 = 1_750_000_000_000;
const options = { slewRatio: 0.05, dateToleranceMs: DAY_MS };

/** A clock that has stamped once at T0 (monotonic origin 0). */
function started(): ClusterClock {
  const clock = new ClusterClock(options);
  clock.stamp({ monoMs: 0, wallMs: T0 }, 0);
  return clock;
}

describe('ClusterClock', () => {
  it('advances by the monotonic clock while the wall clock agrees', () => {
    const clock = started();
    expect(clock.stamp({ monoMs: 1000, wallMs: T0 + 1000 }, 0)).toEqual({ at: T0 + 1000 });
    expect(clock.stamp({ monoMs: 31_000, wallMs: T0 + 31_000 }, 0)).toEqual({ at: T0 + 31_000 });
  });

  it('follows a +60 s wall-clock step at most 5 % faster than elapsed time, and has absorbed it after 20 minutes', () => {
    const clock = started();
    const first = clock.stamp({ monoMs: 10_000, wallMs: T0 + 70_000 }, 0);
    expect(first.at).toBe(T0 + 10_500);
    // A 30 s lease renewed now is not due before 28.57 s of real time have passed.
    const renewedAt = first.at;
    expect(clock.peek({ monoMs: 10_000 + 28_571, wallMs: T0 + 70_000 + 28_571 }, 0) - renewedAt).toBeLessThan(30_000);
    expect(clock.stamp({ monoMs: 10_000 + 28_572, wallMs: T0 + 70_000 + 28_572 }, 0).at - renewedAt).toBe(30_000);
    expect(clock.stamp({ monoMs: 10_000 + 1_200_000, wallMs: T0 + 1_270_000 }, 0).at).toBe(T0 + 1_270_000);
  });

  it('never moves back after a −60 s step: it runs at least 95 % of elapsed time until the wall clock catches up', () => {
    const clock = started();
    expect(clock.stamp({ monoMs: 10_000, wallMs: T0 - 50_000 }, 0).at).toBe(T0 + 9_500);
    expect(clock.stamp({ monoMs: 40_000, wallMs: T0 - 20_000 }, 0).at).toBe(T0 + 9_500 + 28_500);
    expect(clock.stamp({ monoMs: 1_300_000, wallMs: T0 + 1_240_000 }, 0).at).toBe(T0 + 1_240_000);
  });

  it('keeps every step of cluster time within 5 % of elapsed monotonic time, whatever the wall clock does (fuzzed)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ elapsedMs: fc.integer({ min: 0, max: 120_000 }), wallStepMs: fc.oneof(fc.constant(0), fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS })) }), { maxLength: 40 }),
        (steps) => {
          const clock = started();
          let mono = 0;
          let wall = T0;
          let at = T0;
          for (const s of steps) {
            mono += s.elapsedMs;
            wall += s.elapsedMs + s.wallStepMs;
            const next = clock.stamp({ monoMs: mono, wallMs: wall }, 0).at;
            // Within 5 %, give or take the whole-ms rounding of each stamp.
            expect(next - at).toBeGreaterThanOrEqual(Math.floor(s.elapsedMs * 0.95) - 1);
            expect(next - at).toBeLessThanOrEqual(Math.ceil(s.elapsedMs * 1.05) + 1);
            at = next;
          }
        },
      ),
    );
  });

  it('never stamps below the floor (the last applied at)', () => {
    const clock = started();
    expect(clock.stamp({ monoMs: 1000, wallMs: T0 + 1000 }, T0 + 5000).at).toBe(T0 + 5000);
    expect(clock.stamp({ monoMs: 2000, wallMs: T0 + 2000 }, 0).at).toBe(T0 + 5950);
  });

  it('starts a fresh process from its wall clock, never below the last applied at', () => {
    expect(new ClusterClock(options).fresh).toBe(true);
    expect(new ClusterClock(options).stamp({ monoMs: 5, wallMs: T0 + 3 * DAY_MS }, T0).at).toBe(T0 + 3 * DAY_MS);
    expect(new ClusterClock(options).stamp({ monoMs: 5, wallMs: T0 - 60_000 }, T0).at).toBe(T0);
  });

  it('a follower that takes office continues from the last at it applied plus its own elapsed time, not from its wall clock', () => {
    const follower = new ClusterClock(options);
    follower.follow(T0, 100);
    expect(follower.fresh).toBe(false);
    // Its wall clock is 3 days ahead; it took office 2 s after applying the old leader's last entry.
    expect(follower.stamp({ monoMs: 2100, wallMs: T0 + 3 * DAY_MS }, T0).at).toBe(T0 + 2100);
  });

  it('peek() tells cluster time without moving the clock', () => {
    const clock = started();
    expect(clock.peek({ monoMs: 1000, wallMs: T0 + 61_000 }, 0)).toBe(T0 + 1050);
    expect(clock.offsetMs({ monoMs: 1000, wallMs: T0 + 61_000 }, 0)).toBe(59_950);
    expect(clock.stamp({ monoMs: 1000, wallMs: T0 + 1000 }, 0).at).toBe(T0 + 1000);
  });

  it('dates a command by the wall clock held within the tolerance of at, and writes no date within 1 s of at', () => {
    const clock = started();
    expect(clock.stamp({ monoMs: 1000, wallMs: T0 + 1000 + DATE_PRECISION_MS - 1 }, 0)).toEqual({ at: T0 + 1000 + 50 });
    expect(clock.stamp({ monoMs: 2000, wallMs: T0 + 2000 + 3 * DAY_MS }, 0)).toEqual({ at: T0 + 2100, dateMs: T0 + 2100 + DAY_MS });
    expect(clock.stamp({ monoMs: 3000, wallMs: T0 + 3000 + 12 * 3_600_000 }, 0)).toEqual({ at: T0 + 3150, dateMs: T0 + 3000 + 12 * 3_600_000 });
    // The clock comes back: so does the date (cluster time, 150 ms ahead, slews back 50 ms per second).
    expect(clock.stamp({ monoMs: 4000, wallMs: T0 + 4000 }, 0)).toEqual({ at: T0 + 4100 });
    expect(clock.stamp({ monoMs: 5000, wallMs: T0 - 365 * DAY_MS }, 0)).toEqual({ at: T0 + 5050, dateMs: T0 + 5050 - DAY_MS });
  });
});

describe('ClockStepWatch', () => {
  it('reports a step of the wall clock against the monotonic clock once, with its sign, and ignores small drift', () => {
    const watch = new ClockStepWatch(1000);
    expect(watch.observe({ monoMs: 0, wallMs: T0 })).toBe(0);
    expect(watch.observe({ monoMs: 1000, wallMs: T0 + 1500 })).toBe(0);
    expect(watch.observe({ monoMs: 2000, wallMs: T0 + 62_500 })).toBe(60_000);
    expect(watch.observe({ monoMs: 3000, wallMs: T0 + 63_500 })).toBe(0);
    expect(watch.observe({ monoMs: 4000, wallMs: T0 + 4500 })).toBe(-60_000);
  });
});
