// The two lease indexes on the hot path, built for it: every checkout adds a
// lease to both, every checkin removes one from both, every renew looks one up.
// - LeaseTable (PoolState.leases): every lease by id, in grant order. A lease
//   id is `L${seq}`, so it is found by its number in an open-addressing table
//   of float64 keys. Grant order is an array of the leases with lazy removal
//   (a flag on the removed lease): a checkin touches no other lease (an
//   intrusive list cost two cache misses per removal, at its neighbours).
//   Iteration (snapshots, listings) reads the array, not the table.
// - Session.leases: a session's held leases, oldest first, in a plain array
//   on the session (at most leasesPerSessionMax); removeHeldLease takes one out.
// They replace a Map<string, Lease> and a Set<Lease> per session, whose
// inserts and deletes of fresh entries were a quarter of the pool bench and
// whose churn (tombstones, rehashing into new tables) fed the GC.
// Preconditions are asserted: deleting a lease that is not in the table (or
// from a session that does not hold it) used to probe forever; adding one
// twice, or with a seq that is no lease number, silently corrupted the table.

import { assert } from './assert.ts';

/** What the indexes need of a lease (pool-state.ts's Lease). */
export interface IndexedLease {
  readonly seq: number;
  /** True while in a LeaseTable; owned by it. */
  inTable: boolean;
}

/** Longest lease id `parseLeaseSeq` reads: "L" and 15 digits, within float64's exact integers. */
const LEASE_ID_CHARS_MAX = 16;
const TABLE_SLOTS_MIN = 64;
/** Grant-order entries below which removed ones are never compacted away. */
const ORDER_COMPACT_MIN = 64;

/** The seq of a lease id `L${seq}` (seq ≥ 1, no leading zero), or 0 when `id` is not one. */
export function parseLeaseSeq(id: string): number {
  const n = id.length;
  if (n < 2 || n > LEASE_ID_CHARS_MAX || id.charCodeAt(0) !== 76 /* L */) return 0;
  let seq = 0;
  for (let i = 1; i < n; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || (d === 0 && i === 1)) return 0;
    seq = seq * 10 + d;
  }
  return seq;
}

/** Every lease, held and lingering, by id; iterates in insertion (grant) order, like the Map it replaced. */
export class LeaseTable<Lease extends IndexedLease> {
  /** Slot i holds vals[i], whose seq is keys[i]; 0: empty. Linear probing; load ≤ 1/2. */
  private keys = new Float64Array(TABLE_SLOTS_MIN);
  private vals: (Lease | undefined)[] = new Array<Lease | undefined>(TABLE_SLOTS_MIN).fill(undefined);
  private shift = 32 - Math.log2(TABLE_SLOTS_MIN);
  private count = 0;
  /** Insertion (grant) order, including removed leases (inTable false) until the next compaction. */
  private order: Lease[] = [];

  /** Leases in the table. */
  get size(): number {
    return this.count;
  }

  /** The lease whose id is `id`, or undefined. */
  get(id: string): Lease | undefined {
    const seq = parseLeaseSeq(id);
    return seq === 0 ? undefined : this.bySeq(seq);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** The lease whose seq is `seq`, or undefined. */
  bySeq(seq: number): Lease | undefined {
    const keys = this.keys;
    const mask = keys.length - 1;
    for (let i = this.home(seq); ; i = (i + 1) & mask) {
      const k = keys[i] as number;
      if (k === seq) return this.vals[i];
      if (k === 0) return undefined;
    }
  }

  /** Adds `lease` (whose id must be `L${lease.seq}` and not in the table) after every other in iteration order. */
  add(lease: Lease): void {
    assert(!lease.inTable, 'lease table add of a lease already in a table');
    assert(Number.isSafeInteger(lease.seq) && lease.seq >= 1, 'lease table add of a lease whose seq is no lease number');
    if (2 * (this.count + 1) > this.keys.length) this.resize(this.keys.length * 2);
    this.insert(lease);
    this.count++;
    if (this.order.length >= ORDER_COMPACT_MIN && this.order.length >= 2 * this.count) this.compactOrder();
    lease.inTable = true;
    this.order.push(lease);
  }

  /** Removes `lease`, which must be in the table. */
  delete(lease: Lease): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = keys.length - 1;
    assert(lease.inTable, 'lease table delete of a lease in no table');
    let i = this.home(lease.seq);
    for (let k = keys[i] as number; k !== lease.seq; k = keys[i] as number) {
      // Load ≤ 1/2, so a probe always reaches an empty slot when the seq is absent.
      assert(k !== 0, 'lease table delete of a lease not in this table');
      i = (i + 1) & mask;
    }
    assert(vals[i] === lease, 'lease table delete of a lease whose seq another lease holds');
    // Backward-shift deletion: no tombstones, so lookups stay short under churn.
    for (let j = (i + 1) & mask; keys[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(keys[j] as number);
      // Entry j may move to the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? i < h && h <= j : i < h || h <= j) continue;
      keys[i] = keys[j] as number;
      vals[i] = vals[j];
      i = j;
    }
    keys[i] = 0;
    vals[i] = undefined;
    this.count--;
    lease.inTable = false;
    if (this.count === 0) this.order.length = 0;
  }

  /** Every lease, in grant order. The caller may delete leases meanwhile, not add them. */
  *values(): IterableIterator<Lease> {
    const order = this.order;
    for (let i = 0; i < order.length; i++) {
      const l = order[i] as Lease;
      if (l.inTable) yield l;
    }
  }

  /** Every lease, in grant order, as a new array. */
  toArray(): Lease[] {
    const out: Lease[] = [];
    for (const l of this.order) if (l.inTable) out.push(l);
    return out;
  }

  [Symbol.iterator](): IterableIterator<Lease> {
    return this.values();
  }

  private home(seq: number): number {
    return Math.imul(seq, 0x9e3779b1) >>> this.shift;
  }

  private insert(lease: Lease): void {
    const keys = this.keys;
    const mask = keys.length - 1;
    let i = this.home(lease.seq);
    // The seq, if present, lies on the probe path before the first empty slot.
    for (let k = keys[i] as number; k !== 0; k = keys[i] as number) {
      assert(k !== lease.seq, 'lease table add of a seq it already holds');
      i = (i + 1) & mask;
    }
    keys[i] = lease.seq;
    this.vals[i] = lease;
  }

  private resize(slots: number): void {
    const vals = this.vals;
    this.keys = new Float64Array(slots);
    this.vals = new Array<Lease | undefined>(slots).fill(undefined);
    this.shift = 32 - Math.log2(slots);
    for (const l of vals) if (l !== undefined) this.insert(l);
  }

  /** Drops removed leases from the grant order. */
  private compactOrder(): void {
    const order = this.order;
    let m = 0;
    for (let i = 0; i < order.length; i++) {
      const l = order[i] as Lease;
      if (l.inTable) order[m++] = l;
    }
    order.length = m;
  }
}

/**
 * Removes `lease` from `held`, a session's held leases (oldest first), which
 * must contain it. Shifts the newer ones down by hand: Array.prototype.splice
 * was a builtin call and a new array per removal, a few % of the pool bench.
 */
export function removeHeldLease<Lease>(held: Lease[], lease: Lease): void {
  const last = held.length - 1;
  let i = last;
  while (i >= 0 && held[i] !== lease) i--;
  assert(i >= 0, 'removeHeldLease of a lease its session does not hold');
  for (; i < last; i++) held[i] = held[i + 1] as Lease;
  held.pop();
}
