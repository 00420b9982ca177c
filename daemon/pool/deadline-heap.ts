// A min-heap of deadlines with lazy removal, so expiry never scans every lease
// and the commands of the hot path (renew, checkin) cost O(1) here:
// - a removed item is only marked (its stamp cleared); its entry is dropped
//   when it reaches the top, or when stale entries outnumber live ones;
// - a deadline moved later (renew, grace) keeps its entry, filed under the
//   earlier deadline; when that entry reaches the top it is filed again under
//   the item's current deadline. A deadline moved earlier files a new entry.
// Entries keep their keys in typed arrays: sifting compares numbers in a few
// cache lines instead of reading one item object per level (the v1 indexed
// heap's `remove` was ~5% of the pool bench, nearly all of it cache misses).
// Ties on `deadlineMs` break on `seq` (unique per item), so the order in which
// live items come out is a function of the items alone, never of the heap's
// history: a heap rebuilt from a snapshot behaves exactly like the original.
// Preconditions (an item is in at most one heap; push only what is in none;
// remove and update only what is in it; deadlines are numbers) are asserted:
// breaking one used to miscount `size` or file an entry that no count knew of.

import { assert } from './assert.ts';

/** What the heap orders. `heapStamp` and `heapKeyMs` are owned by the heap. */
export interface DeadlineItem {
  /** `ms` since the epoch. */
  deadlineMs: number;
  /** Unique tie-breaker, smaller first. */
  readonly seq: number;
  /** Stamp of the item's live entry; 0 when in no heap. */
  heapStamp: number;
  /** `ms`: the deadline its live entry is filed under. Invariant: heapKeyMs ≤ deadlineMs while in a heap. */
  heapKeyMs: number;
}

/** Entries below which stale ones are never compacted away. */
const COMPACT_ENTRIES_MIN = 64;

/** Min-heap on (deadlineMs, seq) of the live items. */
export class DeadlineHeap<T extends DeadlineItem> {
  /** Entry i: filed under keys[i], tie-break seqs[i], live while items[i].heapStamp === stamps[i]. */
  private keys = new Float64Array(COMPACT_ENTRIES_MIN);
  private seqs = new Float64Array(COMPACT_ENTRIES_MIN);
  private stamps = new Float64Array(COMPACT_ENTRIES_MIN);
  private items: (T | undefined)[] = [];
  /** Entries, live and stale. Invariant: no entry comes before its parent. */
  private n = 0;
  private lastStamp = 0;
  /** Live items. */
  private live = 0;

  /** Items in the heap. */
  get size(): number {
    return this.live;
  }

  /** The earliest item, or undefined when empty. Drops or refiles the stale entries it finds on top (the items' order is unaffected). */
  peek(): T | undefined {
    while (this.n > 0) {
      const item = this.items[0] as T;
      if (item.heapStamp !== this.stamps[0]) {
        this.popTop();
        continue;
      }
      if (item.deadlineMs !== this.keys[0]) {
        this.popTop();
        this.file(item);
        continue;
      }
      return item;
    }
    return undefined;
  }

  /** Adds `item`, which must be in no heap. */
  push(item: T): void {
    assert(item.heapStamp === 0, 'deadline heap push of an item already in a heap');
    this.file(item);
    this.live++;
  }

  /** Removes `item`, which must be in this heap. */
  remove(item: T): void {
    assert(item.heapStamp !== 0 && this.live > 0, 'deadline heap remove of an item in no heap');
    item.heapStamp = 0;
    this.live--;
    if (this.live === 0) this.clear();
  }

  /** Restores order after `item.deadlineMs` changed. */
  update(item: T): void {
    assert(item.heapStamp !== 0, 'deadline heap update of an item in no heap');
    // Later: the entry stays, and is refiled when it reaches the top.
    if (item.deadlineMs < item.heapKeyMs) this.file(item);
  }

  /**
   * Refiles every live item under its current deadline at once (O(n)), for a
   * command that moved many deadlines later (grace): refiling them one by one
   * as each reaches the top costs a pop and a push each (10,000 sessions:
   * ~25 ms on a new leader's first look at its next deadline).
   */
  refileAll(): void {
    if (this.n > 0) this.compact();
  }

  /** Every live item, in no particular order. */
  values(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.n; i++) {
      const item = this.items[i] as T;
      if (item.heapStamp === this.stamps[i]) out.push(item);
    }
    return out;
  }

  /** Broken invariants of the heap itself, as sentences (for checkInvariants). */
  check(name: string): string[] {
    const bad: string[] = [];
    let live = 0;
    for (let i = 0; i < this.n; i++) {
      const item = this.items[i] as T;
      if (item.heapStamp === this.stamps[i]) {
        live++;
        if (this.keys[i] !== item.heapKeyMs || item.heapKeyMs > item.deadlineMs) bad.push(`${name} deadline index files an item after its deadline`);
      }
      if (i > 0 && this.before(i, (i - 1) >> 1)) bad.push(`${name} deadline index is out of order at ${i}`);
    }
    if (live !== this.live) bad.push(`${name} deadline index counts ${this.live} items, holds ${live}`);
    return bad;
  }

  /** Files a new entry for `item` under its current deadline; any older entry of it turns stale. */
  private file(item: T): void {
    // NaN compares false both ways and would sink anywhere in the order.
    assert(!Number.isNaN(item.deadlineMs), 'deadline heap item whose deadline is NaN');
    if (this.n >= COMPACT_ENTRIES_MIN && this.n >= 2 * this.live) this.compact();
    if (this.n === this.keys.length) this.grow();
    const stamp = ++this.lastStamp;
    item.heapStamp = stamp;
    item.heapKeyMs = item.deadlineMs;
    const i = this.n++;
    this.keys[i] = item.deadlineMs;
    this.seqs[i] = item.seq;
    this.stamps[i] = stamp;
    this.items[i] = item;
    this.up(i);
  }

  /** Drops every stale entry, refiles the live ones under their current deadlines, and restores order (Floyd, O(n)). */
  private compact(): void {
    let m = 0;
    for (let i = 0; i < this.n; i++) {
      const item = this.items[i] as T;
      if (item.heapStamp !== this.stamps[i]) continue;
      item.heapKeyMs = item.deadlineMs;
      this.keys[m] = item.deadlineMs;
      this.seqs[m] = item.seq;
      this.stamps[m] = this.stamps[i] as number;
      this.items[m] = item;
      m++;
    }
    this.items.length = m;
    this.n = m;
    for (let i = (m >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private clear(): void {
    this.items.length = 0;
    this.n = 0;
  }

  private grow(): void {
    const size = this.keys.length * 2;
    const keys = new Float64Array(size);
    const seqs = new Float64Array(size);
    const stamps = new Float64Array(size);
    keys.set(this.keys);
    seqs.set(this.seqs);
    stamps.set(this.stamps);
    this.keys = keys;
    this.seqs = seqs;
    this.stamps = stamps;
  }

  private popTop(): void {
    const last = --this.n;
    if (last > 0) this.move(last, 0);
    this.items.length = last;
    if (last > 1) this.down(0);
  }

  /** Entry i comes before entry j. */
  private before(i: number, j: number): boolean {
    const a = this.keys[i] as number;
    const b = this.keys[j] as number;
    return a < b || (a === b && (this.seqs[i] as number) < (this.seqs[j] as number));
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from] as number;
    this.seqs[to] = this.seqs[from] as number;
    this.stamps[to] = this.stamps[from] as number;
    this.items[to] = this.items[from];
  }

  private swap(i: number, j: number): void {
    const k = this.keys[i] as number;
    const s = this.seqs[i] as number;
    const t = this.stamps[i] as number;
    const item = this.items[i];
    this.move(j, i);
    this.keys[j] = k;
    this.seqs[j] = s;
    this.stamps[j] = t;
    this.items[j] = item;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(r, l) ? r : l;
      if (!this.before(c, i)) break;
      this.swap(i, c);
      i = c;
    }
  }
}
