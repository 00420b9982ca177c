// The clients' own record of the seats they held, for checking the seat
// invariant from outside the cluster: a seat counts from the moment its
// granted reply arrived until the moment its checkin was sent (or the client
// learnt it was revoked). That interval lies inside the interval the cluster
// held the seat (granted before the reply, freed after the checkin arrived),
// so if the clients' intervals ever overlap more than the licensed seats,
// the cluster granted more seats than it had. All times come from one
// monotonic clock (performance.now()) of one process.

/** One seat as a client saw it. */
export interface SeatRecord {
  readonly leaseId: string;
  readonly client: string;
  /** `ms` (performance.now()) the grant reached the client. */
  readonly grantedAtMs: number;
  /** `ms` the checkin was first sent, or the revocation learnt; undefined while held. */
  releasedAtMs: number | undefined;
  /** The checkin was acknowledged (the call resolved). */
  checkinAcked: boolean;
  /** Seats it holds. */
  readonly count: number;
}

/** Seat records of every client of a run, by lease id. */
export class SeatLedger {
  /** Invariant: a lease id is granted at most once (the cluster never hands one out twice). */
  readonly records = new Map<string, SeatRecord>();
  /** Lease ids granted twice (a retried checkout must return the first grant, not a new one; a second grant event of one id is an SDK-level duplicate). */
  readonly duplicateGrants: string[] = [];

  /** The grant of `leaseId` reached `client`. */
  granted(client: string, leaseId: string, count = 1, atMs = performance.now()): void {
    if (this.records.has(leaseId)) {
      this.duplicateGrants.push(leaseId);
      return;
    }
    this.records.set(leaseId, { leaseId, client, grantedAtMs: atMs, releasedAtMs: undefined, checkinAcked: false, count });
  }

  /** The client is about to send the checkin of `leaseId` (or learnt it was revoked). */
  released(leaseId: string, atMs = performance.now()): void {
    const r = this.records.get(leaseId);
    if (r !== undefined && r.releasedAtMs === undefined) r.releasedAtMs = atMs;
  }

  /** The checkin of `leaseId` was acknowledged. */
  checkinAcked(leaseId: string): void {
    const r = this.records.get(leaseId);
    if (r !== undefined) r.checkinAcked = true;
  }

  /** Leases granted and not released (still held by their clients). */
  held(): SeatRecord[] {
    return [...this.records.values()].filter((r) => r.releasedAtMs === undefined);
  }

  /**
   * The most seats held at one instant, and when. A release at the same
   * instant as a grant counts first: the cluster cannot grant a seat freed
   * by a checkin before that checkin was sent.
   */
  maxHeld(): { seats: number; atMs: number } {
    const events: { atMs: number; delta: number }[] = [];
    for (const r of this.records.values()) {
      events.push({ atMs: r.grantedAtMs, delta: r.count });
      if (r.releasedAtMs !== undefined) events.push({ atMs: r.releasedAtMs, delta: -r.count });
    }
    events.sort((a, b) => a.atMs - b.atMs || a.delta - b.delta);
    let seats = 0;
    let best = { seats: 0, atMs: 0 };
    for (const e of events) {
      seats += e.delta;
      if (seats > best.seats) best = { seats, atMs: e.atMs };
    }
    return best;
  }
}
