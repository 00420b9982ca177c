// Which seats a pool's keys give at the date, for the capacity computation and for a
// checkout limited to the keys that pass their lock rule on its serving node
// (CheckoutCommand.licenseIds). Apart from capacity.ts, which needs seats.ts,
// so that seats.ts can use it too without an import cycle.
import type { LicensePayload } from '../../protocol/license-payload.ts';
import type { Pool, PoolState } from './pool-state.ts';

/** True when `p`'s seats count at the date `dateMs`. */
export function licenseInForce(p: LicensePayload, dateMs: number): boolean {
  return p.notBefore <= dateMs && (p.expiresAt === undefined || dateMs < p.expiresAt);
}

/**
 * The seats of `pool` a checkout limited to `licenseIds` may count on: the
 * seats of those of the pool's keys in force (a checkout's licenseIds, see
 * CheckoutCommand); all of seatsTotal when undefined. Never above seatsTotal.
 */
export function servableSeats(state: PoolState, pool: Pool, licenseIds: readonly string[] | undefined): number {
  if (licenseIds === undefined) return pool.seatsTotal;
  let seats = 0;
  for (const id of pool.licenseIds) {
    if (!licenseIds.includes(id)) continue;
    const l = state.licenses.get(id);
    if (l !== undefined && licenseInForce(l.payload, state.dateMs)) seats += l.payload.seats;
  }
  return seats;
}

