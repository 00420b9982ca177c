// Notices steps of the wall clock: the difference between the wall clock
// and the monotonic clock changes only when the wall clock is set (by NTP,
// an operator, a resumed VM). Each step larger than the threshold is
// reported once, with its size, so the node can log it as a warning.
import type { ClockReading } from './cluster-clock.ts';

/** Reports wall-clock steps from successive readings. */
export class ClockStepWatch {
  /** `ms`: a change of (wall − monotonic) beyond this is a step. */
  private readonly stepThresholdMs: number;
  /** `ms`: wall − monotonic at the last reading; undefined before the first. */
  private offsetMs: number | undefined;

  constructor(stepThresholdMs: number) {
    this.stepThresholdMs = stepThresholdMs;
  }

  /** `ms`: how far the wall clock stepped since the previous reading (+ forward, − back), or 0 for none. */
  observe(reading: ClockReading): number {
    const offset = reading.wallMs - reading.monoMs;
    const previous = this.offsetMs;
    this.offsetMs = offset;
    if (previous === undefined) return 0;
    const stepMs = offset - previous;
    return Math.abs(stepMs) > this.stepThresholdMs ? stepMs : 0;
  }
}
