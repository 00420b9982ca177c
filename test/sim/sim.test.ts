// The simulator in CI: hundreds of seeds of crashes, partitions and lossy
// links against the real Raft core — replicating the hash chain, and the real
// seat pool of daemon/pool (`--app pool`) — a replay-determinism check of
// both, and unit checks of the simulator's own machinery. A failure names its
// seed; replay it with `SEED=<seed> npm run sim -- --driver sim [--app pool] --trace`.
import { describe, expect, it } from 'vitest';
import { runSim } from './cluster-sim.ts';
import { EventQueue } from './event-queue.ts';
import { Prng } from './prng.ts';

/** Seeds per CI run, split over 3- and 5-node clusters and the two applications. */
const SEEDS_3_NODES = 400;
const SEEDS_5_NODES = 100;
const POOL_SEEDS_3_NODES = 150;
const POOL_SEEDS_5_NODES = 50;
/** Seeds of a 3-node cluster with storage faults (`--disk-faults both`). */
const DISK_FAULT_SEEDS = 200;
/** Generous: about 20–40 s on one core of the CI machine. */
const CI_TIMEOUT_MS = 240_000;

function failures(nodes: 3 | 5, first: number, count: number, app: 'hash' | 'pool' = 'hash'): string[] {
  const found: string[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const r = runSim({ seed, nodes, app });
    if (r.violation !== undefined) {
      found.push(
        `seed ${seed} (${nodes} nodes, ${app}): ${r.violation.message.split('\n')[0]} — replay: SEED=${seed} npm run sim -- --driver sim${nodes === 5 ? ' --nodes 5' : ''}${app === 'pool' ? ' --app pool' : ''} --trace`,
      );
    }
  }
  return found;
}

describe('deterministic simulation', () => {
  it(`finds no violation in ${SEEDS_3_NODES} seeds of a 3-node cluster under faults`, () => {
    expect(failures(3, 1, SEEDS_3_NODES)).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${SEEDS_5_NODES} seeds of a 5-node cluster under faults`, () => {
    expect(failures(5, 1, SEEDS_5_NODES)).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${POOL_SEEDS_3_NODES} seeds of a 3-node cluster replicating the seat pool under faults`, () => {
    expect(failures(3, 1, POOL_SEEDS_3_NODES, 'pool')).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${POOL_SEEDS_5_NODES} seeds of a 5-node cluster replicating the seat pool under faults`, () => {
    expect(failures(5, 1, POOL_SEEDS_5_NODES, 'pool')).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${DISK_FAULT_SEEDS} seeds with storage faults (a disk wiped, an older copy put back): the rejoin guard holds`, () => {
    const found: string[] = [];
    let wipes = 0;
    let putBack = 0;
    for (let seed = 1; seed <= DISK_FAULT_SEEDS; seed++) {
      const r = runSim({ seed, nodes: 3, diskFaults: 'both' });
      wipes += r.disk!.wipes;
      putBack += r.disk!.copiesPutBack;
      if (r.violation !== undefined) found.push(`seed ${seed}: ${r.violation.message.split('\n')[0]} — replay: SEED=${seed} npm run sim -- --driver sim --disk-faults both --trace`);
    }
    expect(found).toEqual([]);
    expect(wipes).toBeGreaterThan(DISK_FAULT_SEEDS / 2);
    expect(putBack).toBeGreaterThan(DISK_FAULT_SEEDS / 10);
  }, CI_TIMEOUT_MS);

  it('without the rejoin guard, a wiped node votes in a leader that lacks a committed entry, which overwrites it (seed 3)', () => {
    const r = runSim({ seed: 3, nodes: 3, diskFaults: 'both', rejoinGuard: false });
    expect(r.violation?.kind).toBe('committed-entry-changed');
    expect(runSim({ seed: 3, nodes: 3, diskFaults: 'both' }).violation).toBeUndefined();
  });

  it('drives real pool traffic: grants, queued grants, checkins, expiries, graces and snapshot comparisons', () => {
    const r = runSim({ seed: 2, nodes: 3, app: 'pool' });
    expect(r.violation).toBeUndefined();
    const p = r.pool!;
    expect(p.grants).toBeGreaterThan(10);
    expect(p.checkins).toBeGreaterThan(5);
    expect(p.graces).toBeGreaterThan(0);
    expect(p.expires).toBeGreaterThan(0);
    expect(p.snapshotsCompared).toBeGreaterThan(0);
  });

  it('replays a seed event for event: two runs print identical traces (hash chain and seat pool)', () => {
    for (const [seed, app] of [[7, 'hash'], [4242, 'hash'], [7, 'pool'], [4242, 'pool']] as const) {
      const a: string[] = [];
      const b: string[] = [];
      const ra = runSim({ seed, nodes: 3, app, trace: (l) => a.push(l), hashTrace: true });
      const rb = runSim({ seed, nodes: 3, app, trace: (l) => b.push(l), hashTrace: true });
      expect(a.length).toBeGreaterThan(500);
      expect(b).toEqual(a);
      expect(rb.traceHash).toBe(ra.traceHash);
      expect(rb.events).toBe(ra.events);
    }
  }, CI_TIMEOUT_MS);

  it('gives the same result with and without tracing (tracing draws no randomness)', () => {
    for (const app of ['hash', 'pool'] as const) {
      const plain = runSim({ seed: 99, nodes: 5, app });
      const traced = runSim({ seed: 99, nodes: 5, app, trace: () => {} });
      expect(traced.events).toBe(plain.events);
      expect(traced.virtualUs).toBe(plain.virtualUs);
      expect(traced.committedIndex).toBe(plain.committedIndex);
      expect(traced.traceHash).toBe(plain.traceHash);
    }
  });

  it('measures a new leader within a few election timeouts after the leader crashes', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = runSim({ seed, nodes: 3, mode: 'liveness' });
      expect(r.violation).toBeUndefined();
      expect(r.electedAfterCrashUs).toBeGreaterThan(0);
    }
  }, CI_TIMEOUT_MS);
});

describe('simulator machinery', () => {
  it('EventQueue pops events by time, then in insertion order', () => {
    const q = new EventQueue<string>();
    q.push(20, 'c');
    q.push(10, 'a');
    q.push(10, 'b');
    q.push(5, 'first');
    q.push(20, 'd');
    const out: string[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) out.push(`${q.nowUs}:${e}`);
    expect(out).toEqual(['5:first', '10:a', '10:b', '20:c', '20:d']);
  });

  it('Prng streams are equal for equal seeds and differ otherwise', () => {
    const a = new Prng(1);
    const b = new Prng(1);
    const c = new Prng(2);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xs);
    const f = new Prng(3);
    for (let i = 0; i < 1000; i++) {
      const x = f.float();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
  });
});
