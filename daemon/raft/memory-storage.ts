// An in-memory WritableStorage: the reference implementation of the storage
// contract (storage-contract.test-support.ts), used by unit tests and the
// deterministic simulator. A crash in the simulator loses what a MemoryStorage
// has not been told to write; it never loses what it has.
import { assert } from './assert.ts';
import {
  StorageError,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  type WritableStorage,
} from './types.ts';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };
const EMPTY_CONF_STATE: ConfState = { voters: [], learners: [] };

/** Bytes an entry counts for against size limits: its data plus a fixed overhead. */
export function entryBytes(entry: Entry): number {
  return entry.data.length + ENTRY_OVERHEAD_BYTES;
}

/** Per-entry bookkeeping bytes counted by size limits, so empty entries are not free. */
export const ENTRY_OVERHEAD_BYTES = 16;

/**
 * Holds the log, hard state and latest snapshot in memory.
 *
 * Bootstrapping: `new MemoryStorage({ voters: ['n1', 'n2', 'n3'], learners: [] })`
 * starts with a snapshot at index 0, term 0 carrying that membership, which is
 * how a fresh cluster learns who its members are.
 */
export class MemoryStorage implements WritableStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private latestSnapshot: Snapshot;
  /**
   * entries[0] is a dummy holding the index and term of the log's base (the
   * last compacted entry or the snapshot point); real entries follow it.
   * Invariant: entries[i].index === entries[0].index + i.
   */
  private entriesHeld: Entry[];

  /** `confState`: the initial membership, recorded as a snapshot at index 0. */
  constructor(confState: ConfState = EMPTY_CONF_STATE) {
    this.latestSnapshot = {
      metadata: { index: 0, term: 0, confState: copyConfState(confState) },
      data: new Uint8Array(0),
    };
    this.entriesHeld = [dummy(0, 0)];
  }

  /** The hard state last set and the membership of the latest snapshot. */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.latestSnapshot.metadata.confState };
  }

  /** Entries in [lo, hi), at least one when lo < hi, at most about `bytesMax` bytes. */
  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    const base = this.base();
    if (lo <= base) throw new StorageError('COMPACTED', `entries from ${lo}: compacted up to ${base}`);
    const last = this.lastIndex();
    if (hi > last + 1) throw new StorageError('UNAVAILABLE', `entries up to ${hi - 1}: last index is ${last}`);
    assert(lo <= hi, `entries(${lo}, ${hi}): lo > hi`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const entry = this.entriesHeld[i - base]!;
      bytes += entryBytes(entry);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  /** Term of entry i; for firstIndex()-1 the term of the log's base. */
  term(i: number): number {
    const base = this.base();
    if (i < base) throw new StorageError('COMPACTED', `term of ${i}: compacted up to ${base}`);
    const last = this.lastIndex();
    if (i > last) throw new StorageError('UNAVAILABLE', `term of ${i}: last index is ${last}`);
    return this.entriesHeld[i - base]!.term;
  }

  /** Index of the first entry held (the base's index + 1). */
  firstIndex(): number {
    return this.base() + 1;
  }

  /** Index of the last entry held (the base's index when none are). */
  lastIndex(): number {
    return this.base() + this.entriesHeld.length - 1;
  }

  /** The latest snapshot recorded or applied. */
  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  /** Appends, replacing held entries from entries[0].index on; entries already compacted are skipped. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const base = this.base();
    const first = entries[0]!.index;
    const last = entries[entries.length - 1]!.index;
    assert(last - first === entries.length - 1, 'append: entries are not contiguous');
    if (last <= base) return;
    assert(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    const skip = first <= base ? base + 1 - first : 0;
    this.entriesHeld.length = first + skip - base;
    for (let i = skip; i < entries.length; i++) this.entriesHeld.push(entries[i]!);
  }

  /** Records the hard state. */
  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** Replaces the log with the snapshot's point; the hard state is left to setHardState. */
  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    assert(
      index >= this.latestSnapshot.metadata.index,
      `applySnapshot at ${index} is older than the held snapshot at ${this.latestSnapshot.metadata.index}`,
    );
    this.latestSnapshot = snapshot;
    this.entriesHeld = [dummy(index, snapshot.metadata.term)];
  }

  /** Records a snapshot of the application at `index` (≤ lastIndex, ≥ the held snapshot's); does not compact. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    assert(index <= this.lastIndex(), `createSnapshot at ${index} is past the last index ${this.lastIndex()}`);
    assert(
      index >= this.latestSnapshot.metadata.index,
      `createSnapshot at ${index} is older than the held snapshot at ${this.latestSnapshot.metadata.index}`,
    );
    this.latestSnapshot = {
      metadata: { index, term: this.term(index), confState: copyConfState(confState) },
      data,
    };
    return this.latestSnapshot;
  }

  /**
   * Discards entries before `index`; entry `index` becomes the log's base: its
   * term stays readable and firstIndex() becomes index + 1. Compacting an
   * already compacted index does nothing.
   */
  compact(index: number): void {
    const base = this.base();
    if (index <= base) return;
    assert(index <= this.lastIndex(), `compact at ${index} is past the last index ${this.lastIndex()}`);
    const baseEntry = this.entriesHeld[index - base]!;
    const kept = this.entriesHeld.slice(index - base + 1);
    kept.unshift(dummy(index, baseEntry.term));
    this.entriesHeld = kept;
  }

  /**
   * An independent copy of everything held: what `cp -a` of a data directory
   * would give (the simulator puts such copies back as its "older copy" fault).
   */
  clone(): MemoryStorage {
    const copy = new MemoryStorage(this.latestSnapshot.metadata.confState);
    copy.hardState = this.hardState;
    copy.latestSnapshot = this.latestSnapshot;
    copy.entriesHeld = [...this.entriesHeld];
    return copy;
  }

  private base(): number {
    return this.entriesHeld[0]!.index;
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(0) };
}

function copyConfState(confState: ConfState): ConfState {
  return { voters: [...confState.voters], learners: [...confState.learners] };
}
