// The tail of the log that is not yet on stable storage: entries proposed or
// received since the last advance(), and a snapshot received from the leader.
// Ready hands them to the driver to persist; advance() marks them stable and
// they are dropped from here (storage then answers for them).
import { assert } from './assert.ts';
import type { Entry, Snapshot } from './types.ts';

/** Entries and snapshot waiting to be persisted. */
export class UnstableLog {
  /** A snapshot received but not yet persisted; it precedes `entries`. */
  snapshot: Snapshot | undefined = undefined;
  /** Invariant: entries[i].index === offset + i. */
  private held: Entry[] = [];
  /** Index of held[0] (or of the next entry to arrive). Invariant: offset = stable last index + 1. */
  offset: number;
  /**
   * True after the array was handed out by entriesView(): the next change
   * copies it first, so a Ready held by the driver never changes under it.
   */
  private shared = false;

  /** `offset`: the stable log's last index + 1. */
  constructor(offset: number) {
    this.offset = offset;
  }

  /** Entries not yet persisted, without copying; the caller must not change them. */
  entriesView(): readonly Entry[] {
    this.shared = true;
    return this.held;
  }

  /** Number of entries held. */
  entryCount(): number {
    return this.held.length;
  }

  /** First index known from an unstable snapshot, if any. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  /** Last index held here, if any. */
  maybeLastIndex(): number | undefined {
    if (this.held.length > 0) return this.offset + this.held.length - 1;
    return this.snapshot?.metadata.index;
  }

  /** Term of entry i if held here. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    return this.held[i - this.offset]?.term;
  }

  /** Entries through (index, term) were persisted: drop them, unless they were since replaced. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.maybeTerm(index) !== term) return;
    this.held = this.held.slice(index + 1 - this.offset);
    this.shared = false;
    this.offset = index + 1;
  }

  /** The snapshot at `index` was persisted. */
  stableSnapTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  /** Replaces everything with a snapshot from the leader. */
  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.held = [];
    this.shared = false;
    this.snapshot = snapshot;
  }

  /** Appends entries, replacing any held from entries[0].index on (the caller checked it is allowed). */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    const end = this.offset + this.held.length;
    if (first === end) {
      if (this.shared) {
        this.held = this.held.slice();
        this.shared = false;
      }
      for (const e of entries) this.held.push(e);
    } else if (first <= this.offset) {
      // Replaces the whole unstable tail; storage's stale suffix is replaced when these are persisted.
      this.offset = first;
      this.held = entries.slice();
      this.shared = false;
    } else {
      assert(first < end, `unstable append at ${first} leaves a gap after ${end - 1}`);
      this.held = this.held.slice(0, first - this.offset).concat(entries);
      this.shared = false;
    }
  }

  /** Entries in [lo, hi); both must lie within what is held. */
  slice(lo: number, hi: number): Entry[] {
    assert(lo >= this.offset && hi <= this.offset + this.held.length && lo <= hi, `unstable slice [${lo}, ${hi}) out of bounds`);
    return this.held.slice(lo - this.offset, hi - this.offset);
  }

  /** Entry `i`, which must be held. */
  at(i: number): Entry {
    const e = this.held[i - this.offset];
    assert(e !== undefined, `unstable entry ${i} not held`);
    return e;
  }
}
