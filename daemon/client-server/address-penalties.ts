// A cool-down for remote addresses whose connections the server had to
// close for flooding or for holding a slot without a hello: without it, a
// flooder closed with 1008 reconnects at once and gets a fresh burst, a
// fresh session and a fresh slot every time. After such a close, its
// address is refused new connections (HTTP 429 at the upgrade, before any
// WebSocket work) for PENALTY_MS_MIN, doubling with each further offense
// up to PENALTY_MS_MAX; an address without an offense for
// PENALTY_FORGET_MS starts over. Legit clients never trip it (the SDK
// stays far below every limit); hosts behind the same NAT as a flooder
// share its cool-down and fail over to another node meanwhile.

/** `ms` of the first cool-down of an address. */
export const PENALTY_MS_MIN = 1_000;
/** `ms` of the longest cool-down. */
export const PENALTY_MS_MAX = 60_000;
/** `ms` without an offense after which an address's record is forgotten. */
export const PENALTY_FORGET_MS = 5 * 60_000;
/** Addresses remembered at most (the oldest record is dropped beyond it). */
export const PENALIZED_ADDRESSES_MAX = 10_000;

interface Penalty {
  /** `ms` (clock) until which new connections are refused. */
  untilMs: number;
  /** `ms` of the latest offense. */
  lastMs: number;
  offenses: number;
}

/** Cool-downs by remote address. */
export class AddressPenalties {
  private readonly byAddress = new Map<string, Penalty>();

  constructor(private readonly now: () => number) {}

  /** A connection from `address` was closed for a policy violation: its cool-down starts or grows. */
  offend(address: string): void {
    const now = this.now();
    let p = this.byAddress.get(address);
    if (p !== undefined && now - p.lastMs > PENALTY_FORGET_MS) p = undefined;
    const offenses = (p?.offenses ?? 0) + 1;
    const coolMs = Math.min(PENALTY_MS_MAX, PENALTY_MS_MIN * 2 ** Math.min(offenses - 1, 16));
    this.byAddress.delete(address);
    if (this.byAddress.size >= PENALIZED_ADDRESSES_MAX) {
      const oldest = this.byAddress.keys().next();
      if (oldest.done !== true) this.byAddress.delete(oldest.value);
    }
    // Re-inserted: the map stays in order of latest offense, oldest first.
    this.byAddress.set(address, { untilMs: Math.max(p?.untilMs ?? 0, now + coolMs), lastMs: now, offenses });
  }

  /** `ms` left of `address`'s cool-down; 0 when it may connect. */
  coolingMs(address: string): number {
    const p = this.byAddress.get(address);
    if (p === undefined) return 0;
    return Math.max(0, p.untilMs - this.now());
  }
}
