import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.test-support.ts';

describe('seededRandom', () => {
  it('replays the same stream for the same seed, a different one for another', () => {
    const draw = (seed: number) => {
      const next = seededRandom(seed);
      return Array.from({ length: 5 }, () => next());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('keeps the mulberry32 stream the old copies produced, so seeded histories do not move', () => {
    const next = seededRandom(1);
    // mulberry32(1), first three draws × 2^32.
    expect([next(), next(), next()].map((x) => x * 4294967296)).toEqual([2693262067, 11749833, 2265367787]);
  });

  it('draws uniform floats in [0, 1)', () => {
    const next = seededRandom(42);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / 10_000 - 0.5)).toBeLessThan(0.02);
  });
});
