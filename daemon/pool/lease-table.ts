// The two lease indexes on the hot path, built for it: every checkout adds a
// lease to both, every checkin removes one from both, every renew looks one up.
// - LeaseTable (PoolState.leases): every lease by id, in grant order. A lease
//   id is `L${seq}`, so it is found by its number in an open-addressing table
//   of float64 keys; grant order is an intrusive list through the leases.
// - SessionLeases (Session.leases): a session's held leases, oldest first, an
//   intrusive list too.
// They replace a Map<string, Lease> and a Set<Lease> per session, whose
// inserts and deletes of fresh entries were a quarter of the pool bench and
// whose churn (tombstones, rehashing into new tables) fed the GC.

/** What the indexes need of a lease (pool-state.ts's Lease); the link fields are owned by them. */
export interface LinkedLease<L extends LinkedLease<L>> {
  readonly seq: number;
  /** Neighbours in LeaseTable's grant order. */
  prev: L | undefined;
  next: L | undefined;
  /** Neighbours in SessionLeases. */
  sessionPrev: L | undefined;
  sessionNext: L | undefined;
}

/** Longest lease id `parseLeaseSeq` reads: "L" and 15 digits, within float64's exact integers. */
const LEASE_ID_CHARS_MAX = 16;
const TABLE_SLOTS_MIN = 64;

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
export class LeaseTable<Lease extends LinkedLease<Lease>> {
  /** Slot i holds vals[i], whose seq is keys[i]; 0: empty. Linear probing; load ≤ 1/2. */
  private keys = new Float64Array(TABLE_SLOTS_MIN);
  private vals: (Lease | undefined)[] = new Array<Lease | undefined>(TABLE_SLOTS_MIN).fill(undefined);
  private shift = 32 - Math.log2(TABLE_SLOTS_MIN);
  private count = 0;
  /** Oldest and newest in grant order. */
  private head: Lease | undefined;
  private tail: Lease | undefined;

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
    if (2 * (this.count + 1) > this.keys.length) this.resize(this.keys.length * 2);
    this.insert(lease);
    this.count++;
    lease.prev = this.tail;
    lease.next = undefined;
    if (this.tail === undefined) this.head = lease;
    else this.tail.next = lease;
    this.tail = lease;
  }

  /** Removes `lease`, which must be in the table. */
  delete(lease: Lease): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = keys.length - 1;
    let i = this.home(lease.seq);
    while (keys[i] !== lease.seq) i = (i + 1) & mask;
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
    if (lease.prev === undefined) this.head = lease.next;
    else lease.prev.next = lease.next;
    if (lease.next === undefined) this.tail = lease.prev;
    else lease.next.prev = lease.prev;
    lease.prev = undefined;
    lease.next = undefined;
  }

  /** Every lease, in grant order. The caller may delete the lease it is at. */
  *values(): IterableIterator<Lease> {
    for (let l = this.head; l !== undefined; ) {
      const next = l.next;
      yield l;
      l = next;
    }
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
    while (keys[i] !== 0) i = (i + 1) & mask;
    keys[i] = lease.seq;
    this.vals[i] = lease;
  }

  private resize(slots: number): void {
    this.keys = new Float64Array(slots);
    this.vals = new Array<Lease | undefined>(slots).fill(undefined);
    this.shift = 32 - Math.log2(slots);
    for (let l = this.head; l !== undefined; l = l.next) this.insert(l);
  }
}

/** A session's held leases, oldest first (an intrusive list through Lease.sessionPrev/sessionNext). */
export class SessionLeases<Lease extends LinkedLease<Lease>> {
  first: Lease | undefined;
  last: Lease | undefined;
  size = 0;

  add(lease: Lease): void {
    lease.sessionPrev = this.last;
    lease.sessionNext = undefined;
    if (this.last === undefined) this.first = lease;
    else this.last.sessionNext = lease;
    this.last = lease;
    this.size++;
  }

  /** Removes `lease`, which must be in this list. */
  delete(lease: Lease): void {
    if (lease.sessionPrev === undefined) this.first = lease.sessionNext;
    else lease.sessionPrev.sessionNext = lease.sessionNext;
    if (lease.sessionNext === undefined) this.last = lease.sessionPrev;
    else lease.sessionNext.sessionPrev = lease.sessionPrev;
    lease.sessionPrev = undefined;
    lease.sessionNext = undefined;
    this.size--;
  }

  /** O(size): for invariant checks. */
  has(lease: Lease): boolean {
    for (let l = this.first; l !== undefined; l = l.sessionNext) if (l === lease) return true;
    return false;
  }

  /** The leases, oldest first, as an array (safe to check them in while walking it). */
  toArray(): Lease[] {
    const out: Lease[] = [];
    for (let l = this.first; l !== undefined; l = l.sessionNext) out.push(l);
    return out;
  }

  [Symbol.iterator](): IterableIterator<Lease> {
    return this.toArray()[Symbol.iterator]();
  }
}
