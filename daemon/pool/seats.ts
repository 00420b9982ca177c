// The mechanics under every command: granting and releasing leases, linger,
// the FIFO queue, revocation, usage events (request-memory.ts remembers the
// replies). Each keeps all the indexes of pool-state.ts in step, so the
// commands in apply.ts read as rules.
import { assert } from './assert.ts';
import { servableSeats } from './servable-seats.ts';
import { removeHeldLease } from './lease-table.ts';
import type { PoolIdentityRules } from './policy-compile.ts';
import { accountLease, boundTtlMs, holdUp, newQueueScan, passedOver, servable, sessionRules, unaccountLease } from './policy-seats.ts';
import { deleteWaiter, NO_DRAWS, NO_COUNTERS, type Lease, type Pool, type PoolState, type Session, type Waiter } from './pool-state.ts';
import { forget, remember } from './request-memory.ts';
import type { DequeueReason, LeaseGrant, PoolEvent, RevokeReason } from './results.ts';

/** Per-command context: the command's time and log index, and the events it produces. */
export interface Step {
  readonly state: PoolState;
  /** `ms`: the command's time (never behind the previous command's). */
  readonly at: number;
  /** Log index of the command: the fencing token of its grants. */
  readonly index: number;
  /** The events so far, in order: NO_EVENTS until the first `emit`. Append only through `emit`. */
  events: PoolEvent[];
}

/**
 * The events of a command that emitted none, shared (ApplyResult allows it):
 * a renew, a third of the bench's mix, then allocates no array.
 */
export const NO_EVENTS: PoolEvent[] = Object.freeze([]) as unknown as PoolEvent[];

/** Appends `event` to the command's events. */
export function emit(step: Step, event: PoolEvent): void {
  if (step.events === NO_EVENTS) step.events = [event];
  else step.events.push(event);
}

/** The grant as the holder is told. */
export function leaseGrant(lease: Lease): LeaseGrant {
  return {
    leaseId: lease.id,
    feature: lease.pool.feature,
    version: lease.pool.version,
    count: lease.count,
    expiresAt: lease.deadlineMs,
    fencingToken: lease.fencingToken,
  };
}

/**
 * Grants `count` seats of `pool` to `session`; the caller checked they are
 * free. `ir`: what the pool's rules make of the session (undefined without
 * rules); its seats draw on its reservations, except those in `blocked`.
 */
export function grantLease(
  step: Step,
  pool: Pool,
  session: Session,
  count: number,
  leaseTtlMs: number,
  ir: PoolIdentityRules | undefined = undefined,
  blocked: ReadonlySet<number> | undefined = undefined,
): Lease {
  const state = step.state;
  assert(Number.isSafeInteger(count) && count >= 1, 'grantLease of a count that is not a positive integer');
  assert(state.sessions.get(session.id) === session, 'grantLease to a session that is not open');
  const seq = state.nextSeq++;
  const ttlMs = pool.rules === undefined ? leaseTtlMs : boundTtlMs(pool, leaseTtlMs);
  const lease: Lease = {
    id: `L${seq}`,
    seq,
    pool,
    sessionId: session.id,
    session,
    clientId: session.clientId,
    user: session.user,
    host: session.host,
    app: session.app,
    ip: session.ip,
    count,
    checkedOutAt: step.at,
    fencingToken: step.index,
    deadlineMs: step.at + ttlMs,
    heapStamp: 0,
    // The deadline (the heap sets it): a field that starts as a small integer and
    // then holds doubles changes its representation, deprecating the object's map.
    heapKeyMs: step.at + ttlMs,
    lingerSeq: 0,
    inTable: false,
    policyCounters: NO_COUNTERS,
    draws: NO_DRAWS,
    borrow: undefined,
  };
  state.leases.add(lease);
  pool.leaseCount++;
  session.leases.push(lease);
  state.leaseDeadlines.push(lease);
  // As renew does: the session lives at least as long as the lease, so a client
  // that crashes before its first heartbeat has the lease revoked as expired
  // (both fall due together), not checked in by its session's end.
  if (session.deadlineMs < lease.deadlineMs) {
    session.deadlineMs = lease.deadlineMs;
    state.sessionDeadlines.update(session);
  }
  holdSeats(pool, lease);
  if (pool.rules !== undefined) accountLease(pool, lease, ir, blocked);
  emit(step, usage(step, 'checkout', lease.pool, lease.user, lease.host, lease.clientId, count, lease.id));
  return lease;
}

/** Adds `lease` to its pool's seat count (used also when a snapshot is decoded). */
export function holdSeats(pool: Pool, lease: Lease): void {
  if (pool.model === 'concurrent') {
    pool.seatsInUse += lease.count;
    if (lease.borrow !== undefined) pool.seatsBorrowed += lease.count;
    return;
  }
  let hosts = pool.userHosts.get(lease.user);
  if (hosts === undefined) {
    hosts = new Map();
    pool.userHosts.set(lease.user, hosts);
    pool.seatsInUse += 1;
  }
  hosts.set(lease.host, (hosts.get(lease.host) ?? 0) + 1);
}

/** Removes `lease` from every index and frees its seats; does not serve the queue. */
export function releaseLease(state: PoolState, lease: Lease): void {
  const pool = lease.pool;
  assert(pool.leaseCount > 0, 'releaseLease of a lease whose pool holds none');
  state.leases.delete(lease);
  pool.leaseCount--;
  if (lease.policyCounters.length > 0 || lease.draws.length > 0) unaccountLease(pool, lease);
  state.leaseDeadlines.remove(lease);
  if (lease.lingerSeq === 0) {
    if (lease.session !== undefined) removeHeldLease(lease.session.leases, lease);
  } else {
    removeLingering(pool, lease);
  }
  if (lease.borrow?.revoked === true) state.revokedBorrows--;
  unholdSeats(pool, lease);
}

/** Takes the lingering `lease` out of `pool`'s linger list (dropping the list once empty). */
export function removeLingering(pool: Pool, lease: Lease): void {
  const key = lingerKey(lease.user, lease.host);
  const list = pool.lingering.get(key);
  const i = list === undefined ? -1 : list.indexOf(lease);
  assert(list !== undefined && i >= 0, 'a lingering lease missing from its linger list');
  list.splice(i, 1);
  if (list.length === 0) pool.lingering.delete(key);
}

/** Takes `lease` out of its pool's seat count: the inverse of holdSeats. */
export function unholdSeats(pool: Pool, lease: Lease): void {
  if (pool.model === 'concurrent') {
    pool.seatsInUse -= lease.count;
    assert(pool.seatsInUse >= 0, 'unholdSeats freed more seats than were in use');
    if (lease.borrow !== undefined) pool.seatsBorrowed -= lease.count;
    return;
  }
  const hosts = pool.userHosts.get(lease.user);
  assert(hosts !== undefined && (hosts.get(lease.host) ?? 0) > 0, 'unholdSeats of an authorized-user lease its user and host do not hold');
  const n = (hosts.get(lease.host) as number) - 1;
  if (n > 0) hosts.set(lease.host, n);
  else hosts.delete(lease.host);
  if (hosts.size === 0) {
    pool.userHosts.delete(lease.user);
    pool.seatsInUse -= 1;
  }
}

/** Key of `Pool.lingering`. */
export function lingerKey(user: string, host: string): string {
  return `${user}\n${host}`;
}

/**
 * A held lease is given back: it lingers for the pool's linger time (its seats
 * stay held for the same user and host), or is released and the queue served.
 * Returns the linger end, `ms` (= at when it does not linger).
 */
export function checkinLease(step: Step, lease: Lease): number {
  const pool = lease.pool;
  assert(lease.lingerSeq === 0, 'checkinLease of a lease already checked in (lingering)');
  emit(step, usage(step, 'checkin', pool, lease.user, lease.host, lease.clientId, lease.count, lease.id));
  if (pool.model === 'concurrent' && pool.lingerMs > 0) {
    const state = step.state;
    if (lease.session !== undefined) removeHeldLease(lease.session.leases, lease);
    lease.session = undefined;
    lease.lingerSeq = state.nextSeq++;
    lease.deadlineMs = step.at + pool.lingerMs;
    state.leaseDeadlines.update(lease);
    const key = lingerKey(lease.user, lease.host);
    const list = pool.lingering.get(key);
    if (list === undefined) pool.lingering.set(key, [lease]);
    else list.push(lease);
    return lease.deadlineMs;
  }
  releaseLease(step.state, lease);
  serveQueue(step, pool);
  return step.at;
}

/**
 * Ends a lease without its holder's checkin, telling the holder of a held one
 * why and recording how it ended (usage `expiry`, `force-checkin` with
 * `adminReason`, or `revoke` with `reason`). A lingering seat was already
 * checked in: it just goes. Does not serve the queue.
 */
export function revokeLease(step: Step, lease: Lease, reason: RevokeReason, message: string, adminReason = ''): void {
  if (lease.lingerSeq === 0) {
    const kind = reason === 'lease-expired' ? 'expiry' : reason === 'force-checkin' ? 'force-checkin' : 'revoke';
    const why = kind === 'expiry' ? '' : kind === 'force-checkin' ? adminReason : reason;
    emit(step, usage(step, kind, lease.pool, lease.user, lease.host, lease.clientId, lease.count, lease.id, why));
    emit(step, {
      kind: 'revoked',
      leaseId: lease.id,
      clientId: lease.clientId,
      sessionId: lease.sessionId,
      feature: lease.pool.feature,
      version: lease.pool.version,
      reason,
      message,
    });
  }
  releaseLease(step.state, lease);
}

/** True when `pool` has `w`'s seats free and room for one more lease, whatever keys `w` names. */
export function waiterSeatsFree(state: PoolState, pool: Pool, w: Waiter): boolean {
  return pool.seatsTotal - pool.seatsInUse >= w.count && pool.leaseCount < state.limits.leasesPerPoolMax;
}

/** True when `w`'s seats stay within the seats of the keys that passed on its serving node (its licenseIds). */
export function waiterWithinItsKeys(state: PoolState, pool: Pool, w: Waiter): boolean {
  return w.licenseIds === undefined || servableSeats(state, pool, w.licenseIds) - pool.seatsInUse >= w.count;
}

/**
 * True when a new checkout may take free seats of `pool` at once: no queued
 * checkout would be served before it. First come, first served, except that
 * a waiter whose own keys cannot serve it yet (its node serves fewer keys
 * than the pool has) keeps its place without holding back those behind it.
 * Invariant: after every command, no waiter of a queue is served before the
 * first one whose seats are not free (checkInvariants).
 */
export function queueLetsPass(state: PoolState, pool: Pool): boolean {
  for (const w of pool.queue) if (!waiterSeatsFree(state, pool, w) || waiterWithinItsKeys(state, pool, w)) return false;
  return true;
}

/**
 * Grants queued checkouts in queue order while their seats are free, passing
 * over (in place) those whose own keys cannot serve them yet; returns how
 * many. `movedFrom`: the first position (0-based) whose waiter already moved
 * up in this step (a dequeue), so that its position is announced too.
 * Under policy rules (servePolicyQueue): a waiter the policy passes over
 * (excluded, or at a max limit) or whose own keys cannot serve it yet keeps
 * its place and holds up nobody; one whose seats are not free for it holds
 * up those behind it, who may then take only seats reserved for them that
 * it may not draw on (see policy-seats.ts).
 */
export function serveQueue(step: Step, pool: Pool, movedFrom = Number.POSITIVE_INFINITY): number {
  const queue = pool.queue;
  if (queue.length === 0) return 0;
  if (pool.rules !== undefined) return servePolicyQueue(step, pool, movedFrom);
  const state = step.state;
  let n = 0;
  let first = -1;
  let passedOver = 0;
  // Granted after a waiter was passed over; undefined while the granted ones are the queue's first n.
  let servedLater: Set<Waiter> | undefined;
  for (let i = 0; i < queue.length; i++) {
    const w = queue[i] as Waiter;
    if (!waiterSeatsFree(state, pool, w)) break;
    if (!waiterWithinItsKeys(state, pool, w)) {
      passedOver++;
      continue;
    }
    if (first < 0) first = i;
    if (passedOver > 0) (servedLater ??= new Set()).add(w);
    n++;
    deleteWaiter(w);
    state.waiterDeadlines.remove(w);
    const lease = grantLease(step, pool, w.session, w.count, w.leaseTtlMs);
    const grant = leaseGrant(lease);
    emit(step, { kind: 'granted', clientId: w.session.clientId, sessionId: w.session.id, requestId: w.requestId, lease: grant });
    emit(step, queueWaitUsage(step, w));
    remember(state, w.session.clientId, w.requestId, w.requestKey, { ok: true, type: 'granted', lease: grant });
  }
  if (n === 0) return 0;
  if (servedLater === undefined) queue.splice(0, n);
  else {
    const prefix = n - servedLater.size;
    let write = 0;
    for (let read = prefix; read < queue.length; read++) {
      const w = queue[read] as Waiter;
      if (!servedLater.has(w)) queue[write++] = w;
    }
    queue.length = write;
  }
  announcePositions(step, pool, Math.min(first, movedFrom));
  return n;
}

function servePolicyQueue(step: Step, pool: Pool, movedFrom: number): number {
  const state = step.state;
  const queue = pool.queue;
  const scan = newQueueScan();
  const served: Waiter[] = [];
  for (const w of queue) {
    if (pool.leaseCount >= state.limits.leasesPerPoolMax) break;
    const ir = sessionRules(state, w.session, pool);
    if (passedOver(pool, ir, w.count)) continue;
    if (!servable(pool, ir, w.count, scan)) {
      holdUp(scan, ir);
      continue;
    }
    if (!waiterWithinItsKeys(state, pool, w)) continue;
    served.push(w);
    deleteWaiter(w);
    state.waiterDeadlines.remove(w);
    const lease = grantLease(step, pool, w.session, w.count, w.leaseTtlMs, ir, scan.blocked ? scan.blockedReserves : undefined);
    const grant = leaseGrant(lease);
    emit(step, { kind: 'granted', clientId: w.session.clientId, sessionId: w.session.id, requestId: w.requestId, lease: grant });
    emit(step, queueWaitUsage(step, w));
    remember(state, w.session.clientId, w.requestId, w.requestKey, { ok: true, type: 'granted', lease: grant });
  }
  if (served.length === 0) return 0;
  const first = queue.indexOf(served[0] as Waiter);
  const gone = new Set(served);
  let k = 0;
  for (const w of queue) if (!gone.has(w)) queue[k++] = w;
  queue.length = k;
  announcePositions(step, pool, Math.min(first, movedFrom));
  return served.length;
}

/** Queue events for every waiter from position `from` (0-based) on: their positions changed. */
export function announcePositions(step: Step, pool: Pool, from: number): void {
  const queue = pool.queue;
  for (let i = from; i < queue.length; i++) {
    const w = queue[i] as Waiter;
    emit(step, {
      kind: 'queue',
      clientId: w.session.clientId,
      sessionId: w.session.id,
      requestId: w.requestId,
      feature: pool.feature,
      version: pool.version,
      position: i + 1,
    });
  }
}

/** A queued checkout leaves its queue without a grant; the queue behind it moves up. */
export function dequeue(step: Step, w: Waiter, reason: DequeueReason): void {
  const i = removeWaiter(step, w, reason);
  // Without it the queue may move on (it was the head, or those before it were passed over); else those behind it move up.
  if (serveQueue(step, w.pool, i) > 0) return;
  announcePositions(step, w.pool, i);
}

/**
 * `dequeue` without serving the queue: those behind move up, but a head that
 * now fits waits for the caller's `serveQueue`. For expire, which must take
 * every queued checkout of a dead session out before it grants any seat.
 */
export function leaveQueue(step: Step, w: Waiter, reason: DequeueReason): void {
  announcePositions(step, w.pool, removeWaiter(step, w, reason));
}

/** Takes `w` out of every index and tells its client; returns its former queue position (0-based). */
function removeWaiter(step: Step, w: Waiter, reason: DequeueReason): number {
  const state = step.state;
  const pool = w.pool;
  const i = pool.queue.indexOf(w);
  pool.queue.splice(i, 1);
  deleteWaiter(w);
  state.waiterDeadlines.remove(w);
  forget(state, w.session.clientId, w.requestId);
  emit(step, {
    kind: 'dequeued',
    clientId: w.session.clientId,
    sessionId: w.session.id,
    requestId: w.requestId,
    feature: pool.feature,
    version: pool.version,
    reason,
  });
  emit(step, queueWaitUsage(step, w));
  return i;
}

function queueWaitUsage(step: Step, w: Waiter): PoolEvent {
  return {
    kind: 'usage',
    usage: 'queue-wait',
    at: step.at,
    feature: w.pool.feature,
    version: w.pool.version,
    user: w.session.user,
    host: w.session.host,
    clientId: w.session.clientId,
    count: w.count,
    leaseId: '',
    waitedMs: step.at - w.enqueuedAt,
    code: '',
    reason: '',
  };
}

/**
 * The usage event of a refused checkout or borrow: the request's feature and
 * version (its pool may not exist), the session's user, host and client,
 * `count` seats asked, the refusal's `code`; `reason` tells a borrow apart.
 */
export function denial(step: Step, feature: string, version: string, session: Session, count: number, code: string, reason = ''): PoolEvent {
  return { kind: 'usage', usage: 'denial', at: step.at, feature, version, user: session.user, host: session.host, clientId: session.clientId, count, leaseId: '', waitedMs: 0, code, reason };
}

/** A usage row of a lease or of a named user (`reason`: see UsageKind). */
export function usage(
  step: Step,
  kind: 'checkout' | 'checkin' | 'expiry' | 'force-checkin' | 'revoke' | 'user-added' | 'user-removed' | 'borrow' | 'return' | 'borrow-end',
  pool: Pool,
  user: string,
  host: string,
  clientId: string,
  count: number,
  leaseId: string,
  reason = '',
): PoolEvent {
  return {
    kind: 'usage',
    usage: kind,
    at: step.at,
    feature: pool.feature,
    version: pool.version,
    user,
    host,
    clientId,
    count,
    leaseId,
    waitedMs: 0,
    code: '',
    reason,
  };
}
