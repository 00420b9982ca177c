// The one seeded PRNG of the unit tests and sample data (mulberry32): small,
// fast, and the same stream for the same seed on every run and machine, so a
// failing seed replays and generated histories stay byte-identical. The
// simulator has its own richer generator (test/sim/prng.ts, xoshiro128**).
// Pure code never draws from it directly: randomness is injected (DESIGN.md).

/** A seeded generator of uniform floats in [0, 1); equal `seed`s (taken as uint32) give equal streams. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
