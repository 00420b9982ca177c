import { describe, expect, it } from 'vitest';
import { backoffDelayMs } from './backoff.ts';

const options = { backoffBaseMs: 100, backoffMaxMs: 1_000 };

describe('backoffDelayMs', () => {
  it('doubles the cap with every retry and never passes backoffMaxMs', () => {
    const almostOne = () => 0.999_999;
    expect(backoffDelayMs(0, options, almostOne)).toBe(99);
    expect(backoffDelayMs(1, options, almostOne)).toBe(199);
    expect(backoffDelayMs(3, options, almostOne)).toBe(799);
    expect(backoffDelayMs(4, options, almostOne)).toBe(999);
    expect(backoffDelayMs(1_000, options, almostOne)).toBe(999);
  });

  it('draws a jittered delay below the cap', () => {
    expect(backoffDelayMs(2, options, () => 0)).toBe(0);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(200);
  });
});
