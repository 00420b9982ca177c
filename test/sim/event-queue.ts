// The virtual clock and its agenda: a binary min-heap of events ordered by
// (time, sequence number). The sequence number breaks ties in insertion
// order, so two events at the same virtual instant always run in the same
// order and a seed replays exactly.

interface Slot<T> {
  readonly atUs: number;
  readonly seq: number;
  readonly event: T;
}

/** A discrete-event agenda on a virtual clock measured in microseconds. */
export class EventQueue<T> {
  private readonly heap: Slot<T>[] = [];
  private seqNext = 0;
  /** Virtual time of the event last popped, µs. Invariant: never goes back. */
  private nowUsValue = 0;
  /** Most events ever held at once: an agenda that grows without bound is a simulator bug. */
  readonly eventsHeldMax: number;

  /** `eventsHeldMax`: a runaway agenda beyond this many events fails loudly. */
  constructor(eventsHeldMax = 1_000_000) {
    this.eventsHeldMax = eventsHeldMax;
  }

  /** Current virtual time, µs. */
  get nowUs(): number {
    return this.nowUsValue;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `event` at virtual time `atUs` (clamped to now: the past cannot be scheduled). */
  push(atUs: number, event: T): void {
    if (this.heap.length >= this.eventsHeldMax) {
      throw new Error(`EventQueue: more than ${this.eventsHeldMax} events scheduled`);
    }
    const slot: Slot<T> = { atUs: Math.max(Math.round(atUs), this.nowUsValue), seq: this.seqNext++, event };
    const heap = this.heap;
    heap.push(slot);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(slot, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = slot;
  }

  /** Schedules `event` `delayUs` after now. */
  after(delayUs: number, event: T): void {
    this.push(this.nowUsValue + delayUs, event);
  }

  /** Removes the earliest event and advances the clock to it; undefined when empty. */
  pop(): T | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    this.nowUsValue = top.atUs;
    return top.event;
  }

  /** Time of the earliest event, µs; undefined when empty. */
  peekUs(): number | undefined {
    return this.heap[0]?.atUs;
  }
}

function before<T>(a: Slot<T>, b: Slot<T>): boolean {
  return a.atUs < b.atUs || (a.atUs === b.atUs && a.seq < b.seq);
}
