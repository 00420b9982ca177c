// What one remote address (a host, or every host behind one NAT) may have
// of the client port: at most `connectionsMax` of the node's connections, so
// a single source cannot take every slot of `connectionsMax` and lock the
// others out; and one request budget shared by all its connections, so
// opening more connections does not multiply what it may send. An address's
// record outlives its last connection until its budget is whole again, so
// closing and reopening every connection does not refill it either.
import { TokenBucket } from '../../protocol/index.ts';

/** One address's share of the client port. */
export interface AddressSlot {
  readonly address: string;
  /** Requests all its connections may send (rate and burst per address). */
  readonly requests: TokenBucket;
  /** Its open connections. */
  connections: number;
}

/** Options of AddressSlots; every limit has a unit. */
export interface AddressSlotsOptions {
  /** Connections one address may hold at once. */
  readonly connectionsMax: number;
  /** Requests per second all connections of one address may send on average. */
  readonly requestsPerSecond: number;
  /** Requests all connections of one address may send in a burst. */
  readonly requestBurst: number;
  /** `ms`, for the buckets; default Date.now. */
  readonly clock?: () => number;
}

/** Connections and request budgets by remote address. */
export class AddressSlots {
  private readonly byAddress = new Map<string, AddressSlot>();

  constructor(private readonly options: AddressSlotsOptions) {}

  /** A connection slot for `address`, or undefined when it holds connectionsMax already (nothing taken). */
  take(address: string): AddressSlot | undefined {
    let slot = this.byAddress.get(address);
    if (slot === undefined) {
      const o = this.options;
      slot = { address, requests: new TokenBucket(o.requestsPerSecond, o.requestBurst, o.clock), connections: 0 };
      this.byAddress.set(address, slot);
    }
    if (slot.connections >= this.options.connectionsMax) return undefined;
    slot.connections++;
    return slot;
  }

  /** Gives back a slot `take` gave. */
  give(slot: AddressSlot): void {
    slot.connections--;
  }

  /** Forgets the addresses without connections whose budget is whole again (the server's sweep). */
  sweep(): void {
    for (const [address, slot] of this.byAddress) if (slot.connections <= 0 && slot.requests.full) this.byAddress.delete(address);
  }

  /** Addresses remembered now. */
  get size(): number {
    return this.byAddress.size;
  }
}
