import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst of `capacity`, then refuses until tokens accrue at the rate', () => {
    let now = 1000;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    now += 100; // one token at 10/s
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });

  it('keeps refilling after the clock steps back, instead of refusing until it catches up', () => {
    let now = 10_000_000;
    const bucket = new TokenBucket(10, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    now -= 3_600_000; // the wall clock is set back an hour
    expect(bucket.take()).toBe(false); // a step back adds nothing
    now += 100; // then a tenth of a second passes: one token at 10/s
    expect(bucket.take()).toBe(true);
  });

  it('says how long until the next token', () => {
    let now = 0;
    const bucket = new TokenBucket(1000 / 30_000, 3, () => now);
    expect(bucket.msUntilToken()).toBe(0);
    bucket.take();
    bucket.take();
    bucket.take();
    expect(bucket.msUntilToken()).toBe(30_000);
    now += 20_000;
    expect(bucket.msUntilToken()).toBe(10_000);
    now += 10_000;
    expect(bucket.msUntilToken()).toBe(0);
  });
});
