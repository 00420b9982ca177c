// The fuzz targets with bounded counts, in `npm test`; `npm run fuzz` runs
// the same ones for longer. A failure prints the shrunk input and the seed.
import { describe, expect, it } from 'vitest';
import { runTarget } from './fuzz-target.ts';
import { FUZZ_TARGETS } from './fuzz-targets.ts';

describe('fuzz: untrusted input never throws', () => {
  for (const target of FUZZ_TARGETS) {
    it(`${target.name}: ${target.claim}`, async () => {
      const outcome = await runTarget(target);
      expect(outcome, `replay: npm run fuzz -- --target ${target.name} --seed ${outcome.seed}`).toMatchObject({ failures: 0 });
      expect(outcome.runs).toBe(target.runsInTest);
    }, 120_000);
  }
});
