// The simulator with the production driver (`--driver real`): every node runs
// daemon/raft-driver's RaftDriver — early send, early apply, one Ready per
// async sync, proposals of a turn packed into one entry, ReadIndex barriers —
// on a virtual event loop and a disk whose unsynced tail a crash loses, under
// the same faults and checks as the simulator's own driver, plus the driver's
// promises to its callers. A failure names its seed; replay it with
// `SEED=<seed> npm run sim -- --driver real [--app pool] [--nodes 5] --trace`.
import { describe, expect, it } from 'vitest';
import { runSimAsync } from './cluster-sim.ts';

/** Seeds per CI run: about 15 s together on the shared two-core machine. */
const SEEDS_3_NODES = 40;
const SEEDS_5_NODES = 15;
const POOL_SEEDS_3_NODES = 30;
const POOL_SEEDS_5_NODES = 10;
const DISK_FAULT_SEEDS = 30;
const CI_TIMEOUT_MS = 120_000;

async function failures(nodes: 3 | 5, first: number, count: number, app: 'hash' | 'pool'): Promise<string[]> {
  const found: string[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const r = await runSimAsync({ seed, nodes, app, driver: 'real' });
    if (r.violation !== undefined) {
      found.push(
        `seed ${seed} (${nodes} nodes, ${app}): ${r.violation.message.split('\n')[0]} — replay: SEED=${seed} npm run sim -- --driver real${nodes === 5 ? ' --nodes 5' : ''}${app === 'pool' ? ' --app pool' : ''} --trace`,
      );
    }
  }
  return found;
}

describe('deterministic simulation through the production RaftDriver', () => {
  it(`finds no violation in ${SEEDS_3_NODES} seeds of a 3-node cluster under faults`, async () => {
    expect(await failures(3, 1, SEEDS_3_NODES, 'hash')).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${SEEDS_5_NODES} seeds of a 5-node cluster under faults`, async () => {
    expect(await failures(5, 1, SEEDS_5_NODES, 'hash')).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${POOL_SEEDS_3_NODES} seeds of a 3-node cluster replicating the seat pool`, async () => {
    expect(await failures(3, 1, POOL_SEEDS_3_NODES, 'pool')).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${POOL_SEEDS_5_NODES} seeds of a 5-node cluster replicating the seat pool`, async () => {
    expect(await failures(5, 1, POOL_SEEDS_5_NODES, 'pool')).toEqual([]);
  }, CI_TIMEOUT_MS);

  it(`finds no violation in ${DISK_FAULT_SEEDS} seeds with storage faults (a disk wiped, an older copy put back)`, async () => {
    const found: string[] = [];
    for (let seed = 1; seed <= DISK_FAULT_SEEDS; seed++) {
      const r = await runSimAsync({ seed, nodes: 3, driver: 'real', diskFaults: 'both' });
      if (r.violation !== undefined) found.push(`seed ${seed}: ${r.violation.message.split('\n')[0]} — replay: SEED=${seed} npm run sim -- --driver real --disk-faults both --trace`);
    }
    expect(found).toEqual([]);
  }, CI_TIMEOUT_MS);

  it('exercises what the driver does: batched entries, answered proposals checked durable, syncs lost to crashes', async () => {
    let batched = 0;
    let resolved = 0;
    let lost = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const r = await runSimAsync({ seed, nodes: 3, app: 'pool', driver: 'real' });
      expect(r.violation).toBeUndefined();
      batched += r.driver!.batchedEntries;
      resolved += r.driver!.proposalsResolved;
      lost += r.driver!.transactionsLost;
      expect(r.driver!.ackedChecked).toBe(r.driver!.proposalsResolved);
    }
    expect(batched).toBeGreaterThan(0);
    expect(resolved).toBeGreaterThan(100);
    expect(lost).toBeGreaterThan(0);
  }, CI_TIMEOUT_MS);

  it('replays a seed event for event: two runs print identical traces', async () => {
    for (const app of ['hash', 'pool'] as const) {
      const a: string[] = [];
      const b: string[] = [];
      const ra = await runSimAsync({ seed: 7, nodes: 3, app, driver: 'real', trace: (l) => a.push(l), hashTrace: true });
      const rb = await runSimAsync({ seed: 7, nodes: 3, app, driver: 'real', trace: (l) => b.push(l), hashTrace: true });
      expect(a.length).toBeGreaterThan(500);
      expect(b).toEqual(a);
      expect(rb.traceHash).toBe(ra.traceHash);
    }
  }, CI_TIMEOUT_MS);
});
