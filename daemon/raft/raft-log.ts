// The whole log as the core sees it: the stable part in Storage, the unstable
// tail in UnstableLog, and the commit and apply points. Every read prefers the
// unstable tail, which is newer.
import { assert } from './assert.ts';
import { entryBytes } from './memory-storage.ts';
import { UnstableLog } from './unstable-log.ts';
import { StorageError, type Entry, type Snapshot, type Storage } from './types.ts';

/** Stable storage, unstable tail, commit and apply indexes. */
export class RaftLog {
  readonly unstable: UnstableLog;
  /** Highest index known committed. Invariant: committed <= lastIndex(); never decreases. */
  committed: number;
  /** Highest index the application has applied. Invariant: applied <= committed. */
  applied: number;

  constructor(readonly storage: Storage) {
    const first = storage.firstIndex();
    this.unstable = new UnstableLog(storage.lastIndex() + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  /** First index held (after the snapshot). */
  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  /** Last index held. */
  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i; undefined when compacted or beyond the end. */
  term(i: number): number | undefined {
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (error: unknown) {
      if (error instanceof StorageError && (error.code === 'COMPACTED' || error.code === 'UNAVAILABLE')) return undefined;
      throw error;
    }
  }

  /** Term of the last entry. */
  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'the last entry has no term');
    return t;
  }

  /** True when entry i exists with term t. */
  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** True when a log ending at (lastIndex, lastTerm) is at least as up-to-date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * A follower's append: when (index, logTerm) matches, appends what is new
   * in `entries`, commits up to min(commit, last new index) and returns that
   * last new index; undefined when the previous entry does not match.
   */
  maybeAppend(index: number, logTerm: number, commit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with committed entry ${this.committed}`);
      const from = conflict - (index + 1);
      this.append(from === 0 ? entries : entries.slice(from));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** Index of the first entry that is new or whose term differs from ours; 0 when all are held. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term`, with that term: where
   * a log that has `term` at `index` may next agree with ours (fast back-off).
   * Returns term 0 when the search reaches compacted entries.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) return [i, 0];
      if (t <= term) return [i, t];
    }
    return [0, 0];
  }

  /** Appends to the unstable tail, replacing entries from entries[0].index on; returns the last index. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    assert(entries[0]!.index > this.committed, `append at ${entries[0]!.index} would overwrite committed ${this.committed}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * Entries in [lo, hi), at most about `bytesMax` (at least one when lo < hi);
   * undefined when lo is compacted.
   */
  slice(lo: number, hi: number, bytesMax: number): Entry[] | undefined {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) return undefined;
    assert(hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) past the last index ${this.lastIndex()}`);
    const offset = this.unstable.offset;
    let out: Entry[] = [];
    let bytes = 0;
    if (lo < offset) {
      const stableHi = Math.min(hi, offset);
      try {
        out = this.storage.entries(lo, stableHi, bytesMax);
      } catch (error: unknown) {
        if (error instanceof StorageError && error.code === 'COMPACTED') return undefined;
        throw error;
      }
      if (out.length < stableHi - lo || hi <= offset) return out;
      for (const e of out) bytes += entryBytes(e);
    }
    for (let i = Math.max(lo, offset); i < hi; i++) {
      const e = this.unstable.at(i);
      bytes += entryBytes(e);
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(e);
    }
    return out;
  }

  /** Raises the commit index to `commit` (never lowers it). */
  commitTo(commit: number): void {
    if (commit <= this.committed) return;
    assert(commit <= this.lastIndex(), `commit ${commit} is past the last index ${this.lastIndex()}`);
    this.committed = commit;
  }

  /** Records that the application applied through `index`. */
  appliedTo(index: number): void {
    if (index <= this.applied) return;
    assert(index <= this.committed, `applied ${index} is past committed ${this.committed}`);
    this.applied = index;
  }

  /** Commits `index` when it is newer and has term `term` (a leader counts only its own term's entries, §5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  /** Installs a snapshot from the leader: everything up to its index is committed. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** The latest snapshot: an unstable one from the leader, else storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Committed entries not yet applied (none while a snapshot waits to be persisted), at most about `bytesMax`. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    if (this.unstable.snapshot !== undefined) return [];
    const lo = Math.max(this.applied + 1, this.firstIndex());
    const entries = this.slice(lo, this.committed + 1, bytesMax);
    assert(entries !== undefined, `committed entries from ${lo} are compacted`);
    return entries;
  }

  /** True when committed entries wait to be applied. */
  hasNextCommittedEntries(): boolean {
    return this.unstable.snapshot === undefined && this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }
}
