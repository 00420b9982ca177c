import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import { CommandGenerator } from './command-generator.test-support.ts';
import type { PoolCommand } from './commands.ts';
import { checkInvariants } from './invariants.ts';
import type { PoolLimits } from './limits.ts';
import { createPoolState, type PoolState } from './pool-state.ts';
import { listLeases, listPools } from './queries.ts';
import { ReferenceModel } from './reference-model.test-support.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';

/** Small limits, so that every limit is hit often. */
const LIMITS: Partial<PoolLimits> = {
  licensesMax: 4,
  licensesRetiredMax: 5,
  poolsMax: 3,
  sessionsMax: 6,
  leasesPerPoolMax: 6,
  leasesPerSessionMax: 4,
  queueLengthMax: 3,
  requestsPerClientRememberedMax: 3,
  clientsRememberedMax: 3,
  renewIdsMax: 4,
  durationMsMax: 60_000,
};

/** Structural equality, ignoring key order. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

function poolsOfModel(ref: ReferenceModel): unknown[] {
  return ref.pools.map((p) => ({ key: p.key, seatsTotal: ref.seatsTotal(p), seatsInUse: ref.seatsInUse(p), users: p.users }));
}
function poolsOfState(state: PoolState): unknown[] {
  return [...state.pools.values()].map((p) => ({ key: p.key, seatsTotal: p.seatsTotal, seatsInUse: p.seatsInUse, users: [...p.users] }));
}

/**
 * Applies `commands` random commands of `seed` to `apply` and to the reference
 * model, comparing every reply and event; every `checkEvery` commands also the
 * invariants, the pools, and a snapshot round trip that replaces the state.
 */
function agree(seed: number, commands: number, checkEvery: number): void {
  const ref = new ReferenceModel(LIMITS);
  let state = createPoolState(LIMITS);
  const gen = new CommandGenerator(seed, () => ref.leases.map((l) => l.id));
  for (let i = 1; i <= commands; i++) {
    const c = gen.next();
    const got = apply(state, c, i);
    const want = ref.apply(c, i);
    if (!same(got, want)) {
      expect({ seed, index: i, command: c, got }).toEqual({ seed, index: i, command: c, got: want });
    }
    if (i % checkEvery === 0) {
      const bad = checkInvariants(state);
      if (bad.length > 0) expect({ seed, index: i, bad }).toEqual({ seed, index: i, bad: [] });
      const retired = [...state.retiredLicenses].map(([id, r]) => ({ id, ...r }));
      if (!same(retired, ref.retired)) expect({ seed, index: i, retired }).toEqual({ seed, index: i, retired: ref.retired });
      if (!same(poolsOfState(state), poolsOfModel(ref))) expect({ seed, index: i, pools: poolsOfState(state) }).toEqual({ seed, index: i, pools: poolsOfModel(ref) });
      if (i % (checkEvery * 64) === 0) {
        const bytes = encodeSnapshot(state);
        state = decodeSnapshot(bytes);
        expect(encodeSnapshot(state)).toEqual(bytes);
      }
    }
  }
}

const PROPERTY_COMMANDS = Number(process.env['POOL_PROPERTY_COMMANDS'] ?? 1_000_000);
const SEEDS = 20;

describe('the state machine agrees with the reference model', () => {
  it(`${PROPERTY_COMMANDS.toLocaleString('en')} random commands over ${SEEDS} seeds give the reference model's every reply and event`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) agree(seed, Math.ceil(PROPERTY_COMMANDS / SEEDS), 16);
  }, 600_000);

  it('short random runs agree with the reference model, checking every invariant after every command (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        agree(seed, 400, 1);
      }),
      { numRuns: 100 },
    );
    // ~12 s on a quiet machine before seat policies, ~20 s with them (the reference model's brute force); a loaded one took over 30 s.
  }, 180_000);
});

describe('determinism', () => {
  it('two replicas that apply the same commands produce byte-identical snapshots, and a replica restored from a snapshot keeps agreeing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 300 }), (seed, cut) => {
        const a = createPoolState(LIMITS);
        const b = createPoolState(LIMITS);
        let restored: PoolState | undefined;
        const gen = new CommandGenerator(seed, () => listLeases(a).map((l) => l.leaseId));
        for (let i = 1; i <= 300; i++) {
          const c: PoolCommand = JSON.parse(JSON.stringify(gen.next())) as PoolCommand;
          const ra = apply(a, c, i);
          const rb = apply(b, c, i);
          expect(rb).toEqual(ra);
          if (restored !== undefined) expect(apply(restored, c, i)).toEqual(ra);
          if (i === cut) restored = decodeSnapshot(encodeSnapshot(a));
        }
        expect(encodeSnapshot(b)).toEqual(encodeSnapshot(a));
        if (restored !== undefined) expect(encodeSnapshot(restored)).toEqual(encodeSnapshot(a));
        expect(listPools(b)).toEqual(listPools(a));
      }),
      { numRuns: 50 },
    );
    // 4–16 s alone; past the default 30 s in a full suite at load 25.
  }, 120_000);
});
