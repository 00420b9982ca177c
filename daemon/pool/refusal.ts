// Refusals of the pool's rules: the PoolError of a code, and the sentences
// that name a rule, shared by the commands that refuse (apply.ts, borrow.ts,
// policy-set.ts) so each refusal reads the same wherever it is made.
import { POOL_ERROR_CODES, type PoolErrorCode } from './error-codes.ts';
import { CLEAR_SCAN, holdUp, newQueueScan, passedOver, queueSlot, servable, sessionRules, type QueueScan } from './policy-seats.ts';
import { servableSeats } from './servable-seats.ts';
import type { Pool, PoolState, Session, Waiter } from './pool-state.ts';
import type { PoolError } from './results.ts';

/** The refusal `code`, with its table sentence unless `message` says more. */
export function fail(code: PoolErrorCode, message: string = POOL_ERROR_CODES[code]): PoolError {
  return { ok: false, code, message };
}

/** A duration is an integer of ms in [min, durationMsMax]. */
export function durationValid(state: PoolState, ms: number, min: number): boolean {
  return Number.isInteger(ms) && ms >= min && ms <= state.limits.durationMsMax;
}

/** POLICY_MAX's sentence: the rule, and whom it stops. */
export function maxRefusal(ruleText: string, session: Session): PoolError {
  return fail('POLICY_MAX', `Policy rule "${ruleText}" is reached for ${session.user} on ${session.host}.`);
}

/** The queue scan a new checkout of `priority` sees: the waiters it would join behind. */
export function scanAhead(state: PoolState, pool: Pool, priority: number): QueueScan {
  const queue = pool.queue;
  if (queue.length === 0) return CLEAR_SCAN;
  const scan = newQueueScan();
  const slot = queueSlot(queue, priority);
  for (let i = 0; i < slot; i++) {
    const w = queue[i] as Waiter;
    const ir = sessionRules(state, w.session, pool);
    if (passedOver(pool, ir, w.count)) continue;
    // Its seats are free for it but its own keys cannot serve it yet: it keeps its place and holds up no one (as serveQueue).
    if (pool.leaseCount < state.limits.leasesPerPoolMax && servable(pool, ir, w.count, scan) && w.licenseIds !== undefined && servableSeats(state, pool, w.licenseIds) - pool.seatsInUse < w.count) continue;
    holdUp(scan, ir);
  }
  return scan;
}

