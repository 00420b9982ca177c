// How many seats each pool has: the sum of the keys in force (notBefore ≤
// date < expiresAt), recomputed when a key is installed or removed and
// whenever the date crosses a key's notBefore or expiresAt, either way (the
// date is the leader's wall clock: a clock set back and corrected brings a
// key back). When capacity shrinks, the newest leases beyond it are revoked;
// when it grows, the queue is served.
import { BORROW_HOURS_DEFAULT } from '../../protocol/license-payload.ts';
import type { Lease, Pool, PoolState, Waiter } from './pool-state.ts';
import { emit, leaveQueue, revokeLease, serveQueue, usage, type Step } from './seats.ts';
import { licenseInForce } from './servable-seats.ts';
import type { RevokeReason } from './results.ts';

/** Sets the pool's seatsTotal, seatsCeiling, lingerMs and hostsPerUserMax from its keys; changes nothing else. */
export function computeCapacity(state: PoolState, pool: Pool): void {
  let total = 0;
  let ceiling = 0;
  let lingerSeconds = 0;
  let hosts = 1;
  let borrowHours = 0;
  for (const id of pool.licenseIds) {
    const l = state.licenses.get(id);
    if (l === undefined) continue;
    const p = l.payload;
    if (p.expiresAt === undefined || state.dateMs < p.expiresAt) ceiling += p.seats;
    if (!licenseInForce(p, state.dateMs)) continue;
    total += l.payload.seats;
    if (l.payload.lingerSeconds > lingerSeconds) lingerSeconds = l.payload.lingerSeconds;
    if (l.payload.hostsPerUserMax > hosts) hosts = l.payload.hostsPerUserMax;
    if (l.payload.borrowAllowed === true) {
      const h = l.payload.borrowHoursMax ?? BORROW_HOURS_DEFAULT;
      if (h > borrowHours) borrowHours = h;
    }
  }
  pool.borrowMsMax = borrowHours * 3_600_000;
  pool.seatsTotal = total;
  pool.seatsCeiling = ceiling;
  let lingerMs = lingerSeconds * 1000;
  if (lingerMs > pool.lingerMsMax) lingerMs = pool.lingerMsMax;
  // The policy's cap: never beyond the keys' linger (docs/policy.md).
  const policyMax = pool.rules?.settings.lingerMsMax ?? Number.POSITIVE_INFINITY;
  pool.lingerMs = lingerMs < policyMax ? lingerMs : policyMax;
  pool.hostsPerUserMax = hosts;
}

/**
 * Recomputes the pool's capacity, then revokes the newest leases beyond it
 * (lingering seats first, as nobody is using them; then held leases, newest
 * grant first) or, in the authorized-user model, the last-assigned users
 * beyond it; queued checkouts that now ask more than its seatsCeiling leave
 * the queue (`seats-reduced`: they could never be granted); then the queue
 * is served.
 */
export function refreshCapacity(step: Step, pool: Pool, reason: RevokeReason): void {
  computeCapacity(step.state, pool);
  const message =
    reason === 'license-removed'
      ? `A license of ${pool.feature} ${pool.version} was removed and its seats with it.`
      : `A license of ${pool.feature} ${pool.version} ended and its seats with it.`;
  if (pool.model === 'authorized-user') {
    if (pool.users.size <= pool.seatsTotal) return;
    const users = [...pool.users];
    while (users.length > pool.seatsTotal) {
      const user = users.pop() as string;
      pool.users.delete(user);
      revokeUserLeases(step, pool, user, reason, message);
      emit(step, usage(step, 'user-removed', pool, user, '', '', 1, '', reason));
    }
    return;
  }
  if (pool.seatsInUse > pool.seatsTotal) {
    const leases = poolLeases(step.state, pool);
    for (let i = leases.length - 1; i >= 0 && pool.seatsInUse > pool.seatsTotal; i--) {
      const l = leases[i] as Lease;
      if (l.lingerSeq > 0) revokeLease(step, l, reason, message);
    }
    // Then held ones, newest first; borrowed seats last: their offline clients keep their tokens until the borrow ends.
    for (let i = leases.length - 1; i >= 0 && pool.seatsInUse > pool.seatsTotal; i--) {
      const l = leases[i] as Lease;
      if (l.lingerSeq === 0 && l.borrow === undefined) revokeLease(step, l, reason, message);
    }
    for (let i = leases.length - 1; i >= 0 && pool.seatsInUse > pool.seatsTotal; i--) {
      const l = leases[i] as Lease;
      if (l.borrow !== undefined) revokeLease(step, l, reason, message);
    }
  }
  // A pool losing its last key is removed next, and its waiters with it ('pool-removed').
  for (let i = 0; pool.licenseIds.length > 0 && i < pool.queue.length; ) {
    const w = pool.queue[i] as Waiter;
    if (w.count > pool.seatsCeiling) leaveQueue(step, w, 'seats-reduced');
    else i++;
  }
  serveQueue(step, pool);
}

/** Revokes every lease `user` holds in `pool`, oldest first. */
export function revokeUserLeases(step: Step, pool: Pool, user: string, reason: RevokeReason, message: string): void {
  if (!pool.userHosts.has(user)) return;
  for (const l of poolLeases(step.state, pool)) if (l.user === user) revokeLease(step, l, reason, message);
}

/** The pool's leases, held and lingering, oldest grant first. O(all leases): for rare events only. */
export function poolLeases(state: PoolState, pool: Pool): Lease[] {
  const out: Lease[] = [];
  for (const l of state.leases.values()) if (l.pool === pool) out.push(l);
  return out;
}

/**
 * Sets the window of dates around dateMs in which no key's notBefore or
 * expiresAt lies (licenseWindowStartMs, licenseTransitionAtMs): call after
 * the keys or the date changed.
 */
export function setLicenseWindow(state: PoolState): void {
  let start = Number.NEGATIVE_INFINITY;
  let end = Number.POSITIVE_INFINITY;
  const date = state.dateMs;
  for (const l of state.licenses.values()) {
    const p = l.payload;
    for (const t of p.expiresAt === undefined ? [p.notBefore] : [p.notBefore, p.expiresAt]) {
      if (t > date) {
        if (t < end) end = t;
      } else if (t > start) start = t;
    }
  }
  state.licenseWindowStartMs = start;
  state.licenseTransitionAtMs = end;
}

/** True when the date left the window in which the keys in force stay the same. */
export function licenseWindowLeft(state: PoolState): boolean {
  return state.dateMs >= state.licenseTransitionAtMs || state.dateMs < state.licenseWindowStartMs;
}

/** The date crossed a key's notBefore or expiresAt (either way): every pool's capacity is refreshed. */
export function applyLicenseTransitions(step: Step): void {
  for (const pool of step.state.pools.values()) refreshCapacity(step, pool, 'license-expired');
  setLicenseWindow(step.state);
}
