// A simulated disk for the real RaftDriver (`--driver real`): the
// DurableStorage the driver writes whole Readys to, with SQLite's durability
// as Floe runs it (WAL, synchronous=NORMAL, syncMode "async"): a transaction
// is visible at once but durable only once a later sync (fdatasync of the
// WAL) has completed. A crash (power loss, kernel panic) keeps every synced
// transaction and a PREFIX of the unsynced ones, in commit order, as WAL
// recovery does (it replays frames up to the first torn one). The length of
// the prefix is drawn from the seed, biased to the ends (none, all).
//
// Two MemoryStorages: `live` is what the running process reads and writes
// (the page cache); `durable` is what a crash would leave. Every write is
// recorded as an operation of the open transaction and replayed onto
// `durable` when a sync covering it completes. A sync completes as a
// scheduled event after a seeded delay (the host decides when), so the
// driver's async-fsync window is real: frames, ticks and proposals keep
// arriving while it is open.
import type { ConfState, Entry, HardState, Snapshot, Storage } from '../../daemon/raft/index.ts';
import { MemoryStorage } from '../../daemon/raft/memory-storage.ts';
import type { DurableStorage } from '../../daemon/raft-driver/index.ts';
import type { Prng } from './prng.ts';

type Op = (s: MemoryStorage) => void;

/** Where the disk asks for its syncs to complete. */
export interface SimDiskHost {
  /** Calls `complete` when the fsync issued now finishes (a scheduled event; never if the node crashes first). */
  scheduleSync(complete: () => void): void;
  /** Called inside each transaction, after its writes (the invariant hooks). */
  afterTransaction?(): void;
}

/** A DurableStorage with asynchronous syncs whose unsynced tail a crash may lose. */
export class SimDisk implements DurableStorage {
  private live: MemoryStorage;
  /** What survives a crash for sure. */
  durable: MemoryStorage;
  /** Committed transactions not yet covered by a completed sync, oldest first. */
  private unsynced: Op[][] = [];
  /** Operations of the open transaction; undefined when none is open. */
  private open: Op[] | undefined;
  private depth = 0;
  host: SimDiskHost | undefined;
  /** Transactions a crash lost, for the report. */
  lostTransactions = 0;

  constructor(confState: ConfState) {
    this.live = new MemoryStorage(confState);
    this.durable = new MemoryStorage(confState);
  }

  // ---- reads: the process sees what it wrote ------------------------------------

  initialState(): { hardState: HardState; confState: ConfState } {
    return this.live.initialState();
  }
  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    return this.live.entries(lo, hi, bytesMax);
  }
  term(i: number): number {
    return this.live.term(i);
  }
  firstIndex(): number {
    return this.live.firstIndex();
  }
  lastIndex(): number {
    return this.live.lastIndex();
  }
  snapshot(): Snapshot {
    return this.live.snapshot();
  }

  // ---- writes: visible now, durable after a sync --------------------------------

  append(entries: readonly Entry[]): void {
    const copy = [...entries];
    this.write((s) => s.append(copy));
  }
  setHardState(hardState: HardState): void {
    this.write((s) => s.setHardState(hardState));
  }
  applySnapshot(snapshot: Snapshot): void {
    this.write((s) => s.applySnapshot(snapshot));
  }
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    this.write((s) => void s.createSnapshot(index, confState, data));
    return this.live.snapshot();
  }
  compact(index: number): void {
    this.write((s) => s.compact(index));
  }

  atomically<T>(fn: () => T): T {
    if (this.depth > 0) {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    }
    this.depth = 1;
    this.open = [];
    try {
      const out = fn();
      this.host?.afterTransaction?.();
      return out;
    } finally {
      // MemoryStorage writes do not fail midway in the simulator; a thrown
      // invariant stops the run, so what was written stays committed.
      if (this.open.length > 0) this.unsynced.push(this.open);
      this.open = undefined;
      this.depth = 0;
    }
  }

  /** fdatasync of the WAL: completes later, making every transaction committed before it durable. */
  readonly syncAsync = (done: (error: Error | null) => void): void => {
    const covered = this.unsynced.length;
    if (this.host === undefined) throw new Error('SimDisk: no host to schedule the sync');
    this.host.scheduleSync(() => {
      this.makeDurable(covered);
      done(null);
    });
  };

  private write(op: Op): void {
    op(this.live);
    if (this.open !== undefined) this.open.push(op);
    else this.unsynced.push([op]); // a write outside a transaction is its own (autocommit)
  }

  /** The first `count` unsynced transactions reached the disk. */
  private makeDurable(count: number): void {
    const done = this.unsynced.splice(0, count);
    for (const tx of done) for (const op of tx) op(this.durable);
  }

  /** Unsynced transactions now. */
  get unsyncedCount(): number {
    return this.unsynced.length;
  }

  /**
   * The disk is replaced while the node is down (the simulator's storage
   * faults): it now holds exactly `storage`, all of it durable.
   */
  replaceWith(storage: MemoryStorage): void {
    this.unsynced = [];
    this.open = undefined;
    this.depth = 0;
    this.durable = storage;
    this.live = copyStorage(storage);
  }

  /**
   * The machine crashed: a prefix of the unsynced transactions (drawn from
   * `rng`) reaches the disk, the rest is lost; the process will read back
   * exactly what is durable.
   */
  crash(rng: Prng): void {
    const n = this.unsynced.length;
    const kept = n === 0 ? 0 : rng.chance(0.4) ? 0 : rng.chance(0.3) ? n : rng.range(0, n);
    this.makeDurable(kept);
    this.lostTransactions += this.unsynced.length;
    this.unsynced = [];
    this.open = undefined;
    this.depth = 0;
    this.live = copyStorage(this.durable);
  }
}

/** A MemoryStorage holding the same log base, entries, snapshot and hard state as `from`. */
export function copyStorage(from: Storage): MemoryStorage {
  const snap = from.snapshot();
  const base = from.firstIndex() - 1;
  const to = new MemoryStorage(snap.metadata.confState);
  to.applySnapshot({ metadata: { index: base, term: from.term(base), confState: snap.metadata.confState }, data: snap.data });
  const last = from.lastIndex();
  if (last > base) to.append(from.entries(base + 1, last + 1, Number.POSITIVE_INFINITY));
  to.createSnapshot(snap.metadata.index, snap.metadata.confState, snap.data);
  to.setHardState(from.initialState().hardState);
  return to;
}
