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

/** The fast-check model run's side: the reference model and the generator whose memory (time, recent requests) the commands share. */
interface PoolModel {
  readonly ref: ReferenceModel;
  readonly gen: CommandGenerator;
}
/** The side under test: the state `apply` changes (replaced by its own snapshot after every command) and the log index. */
interface PoolReal {
  state: PoolState;
  index: number;
}

/** Commands between two snapshot round trips of a model run, as the seed-only version had it (every command cost 10× the time). */
const SNAPSHOT_EVERY_COMMANDS = 64;

/** Commands of one fast-check model run at most. */
const MODEL_RUN_COMMANDS_MAX = 400;

/**
 * One fast-check command: draws a pool command from its own `seed` (in the
 * generator's current context), applies it to both sides and compares reply
 * and events, then checks the invariants, the retired keys and the pools;
 * every SNAPSHOT_EVERY_COMMANDS commands also a snapshot round trip. A failure shrinks to the fewest such steps.
 */
class PoolStep implements fc.Command<PoolModel, PoolReal> {
  /** The command last drawn, for the counterexample fast-check prints. */
  private drawn: PoolCommand | undefined;
  constructor(readonly seed: number) {}
  check(): boolean {
    return true;
  }
  run(model: PoolModel, real: PoolReal): void {
    model.gen.reseed(this.seed);
    const c = model.gen.next();
    this.drawn = c;
    const i = ++real.index;
    const got = apply(real.state, c, i);
    const want = model.ref.apply(c, i);
    if (!same(got, want)) expect({ index: i, command: c, got }).toEqual({ index: i, command: c, got: want });
    const bad = checkInvariants(real.state);
    expect({ index: i, bad }).toEqual({ index: i, bad: [] });
    const retired = [...real.state.retiredLicenses].map(([id, r]) => ({ id, ...r }));
    if (!same(retired, model.ref.retired)) expect({ index: i, retired }).toEqual({ index: i, retired: model.ref.retired });
    if (!same(poolsOfState(real.state), poolsOfModel(model.ref))) expect({ index: i, pools: poolsOfState(real.state) }).toEqual({ index: i, pools: poolsOfModel(model.ref) });
    if (i % SNAPSHOT_EVERY_COMMANDS === 0) {
      const bytes = encodeSnapshot(real.state);
      real.state = decodeSnapshot(bytes);
      expect(encodeSnapshot(real.state)).toEqual(bytes);
    }
  }
  toString(): string {
    return `step(${this.seed}${this.drawn === undefined ? '' : ` ${JSON.stringify(this.drawn)}`})`;
  }
}

const PROPERTY_COMMANDS = Number(process.env['POOL_PROPERTY_COMMANDS'] ?? 1_000_000);
const SEEDS = 20;

describe('the state machine agrees with the reference model', () => {
  it(`${PROPERTY_COMMANDS.toLocaleString('en')} random commands over ${SEEDS} seeds give the reference model's every reply and event`, () => {
    for (let seed = 1; seed <= SEEDS; seed++) agree(seed, Math.ceil(PROPERTY_COMMANDS / SEEDS), 16);
  }, 600_000);

  it('short random runs agree with the reference model, checking every invariant and a snapshot round trip every 64 (fast-check, shrinking to the fewest commands)', () => {
    fc.assert(
      fc.property(fc.commands([fc.integer({ min: 1, max: 2 ** 31 - 1 }).map((seed) => new PoolStep(seed))], { maxCommands: MODEL_RUN_COMMANDS_MAX, size: 'max' }), (steps) => {
        fc.modelRun(() => {
          const ref = new ReferenceModel(LIMITS);
          return { model: { ref, gen: new CommandGenerator(1, () => ref.leases.map((l) => l.id)) }, real: { state: createPoolState(LIMITS), index: 0 } };
        }, steps);
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
