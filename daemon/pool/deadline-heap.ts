// An indexed binary min-heap over items with a deadline, so expiry and renewal
// never scan every lease: the earliest deadline is the top, a renewed item
// moves in O(log n) through the index each item keeps of its own slot.
// Ties on `deadlineMs` break on `seq` (unique per item), so the pop order is a
// function of the items alone, never of the heap's history: a heap rebuilt from
// a snapshot behaves exactly like the original.

/** What the heap orders. `heapIndex` is owned by the heap: -1 when not in one. */
export interface DeadlineItem {
  /** `ms` since the epoch. */
  deadlineMs: number;
  /** Unique tie-breaker, smaller first. */
  readonly seq: number;
  heapIndex: number;
}

function before(a: DeadlineItem, b: DeadlineItem): boolean {
  return a.deadlineMs < b.deadlineMs || (a.deadlineMs === b.deadlineMs && a.seq < b.seq);
}

/** Min-heap on (deadlineMs, seq). */
export class DeadlineHeap<T extends DeadlineItem> {
  /** Invariant: items[i].heapIndex === i, and no child comes before its parent. */
  readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The earliest item, or undefined when empty. */
  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const i = this.items.length;
    this.items.push(item);
    item.heapIndex = i;
    this.up(i);
  }

  /** Removes `item`, which must be in this heap. */
  remove(item: T): void {
    const i = item.heapIndex;
    const last = this.items.pop() as T;
    item.heapIndex = -1;
    if (last !== item) {
      this.items[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  /** Restores order after `item.deadlineMs` changed. */
  update(item: T): void {
    this.down(item.heapIndex);
    this.up(item.heapIndex);
  }

  /** Restores order after many deadlines changed (Floyd, O(n)). */
  rebuild(): void {
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as T;
      if (!before(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(items[r] as T, items[l] as T)) c = r;
      const child = items[c] as T;
      if (!before(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
