// apply(state, command, index): the seat-pool state machine's one transition,
// and the licensing rule of each command (checkout's in checkout.ts, the
// license commands' in license-rules.ts). Everything else in this folder is the indexes those
// rules keep in step (seats.ts, capacity.ts).
import { applyLicenseTransitions, licenseWindowLeft, refreshCapacity, revokeUserLeases } from './capacity.ts';
import type {
  CheckinCommand,
  CheckoutCancelCommand,
  ForceCheckinCommand,
  GraceCommand,
  PoolCommand,
  PoolConfigureCommand,
  RenewCommand,
  SessionCloseCommand,
  SessionOpenCommand,
  UsersAssignCommand,
} from './commands.ts';
import { checkout } from './checkout.ts';
import { licenseInstall, licenseRemove } from './license-rules.ts';
import { boundTtlMs, servable } from './policy-seats.ts';
import { borrow, borrowKeySet, endBorrow, freeRevokedBorrows, returnBorrowed, revokeBorrow } from './borrow.ts';
import { policySet } from './policy-set.ts';
import { durationValid, fail } from './refusal.ts';
import { NO_WAITERS, poolKey, type PoolState, type Session } from './pool-state.ts';
import type { ApplyResult, PoolReply } from './results.ts';
import {
  checkinLease,
  dequeue,
  emit,
  leaveQueue,
  NO_EVENTS,
  releaseLease,
  revokeLease,
  serveQueue,
  usage,
  type Step,
} from './seats.ts';
import { recallIn, rememberIn, requestHash, requestKey, sessionRequests } from './request-memory.ts';

const NO_IDS: readonly string[] = Object.freeze([]);

/** Longest admin reason kept in a revoke message, characters. */
export const FORCE_REASON_CHARS_MAX = 200;

/**
 * Applies `command`, the log entry at `index`, to `state` in place and returns
 * the reply to its proposer and the events for other clients (in the order
 * they happened). `index`: the entry's Raft log index, greater than the
 * previous one applied; it becomes the fencing token of any lease granted by
 * this command. A refused command changes nothing, except that time moves to
 * its `at`, the date to its `dateMs`, and keys whose notBefore or expiresAt
 * the date crosses (either way) take effect.
 */
export function apply(state: PoolState, command: PoolCommand, index: number): ApplyResult {
  if (!(index > state.appliedIndex)) {
    throw new Error(`pool: applied index ${index} does not follow ${state.appliedIndex}`);
  }
  state.appliedIndex = index;
  // Time never moves backwards, whatever a new leader's clock says.
  if (command.at > state.nowMs) state.nowMs = command.at;
  // The date follows the leader's wall clock (within its tolerance of `at`), back as well as forth.
  state.dateMs = command.dateMs ?? state.nowMs;
  const step: Step = { state, at: state.nowMs, index, events: NO_EVENTS };
  if (licenseWindowLeft(state)) applyLicenseTransitions(step);
  const reply = dispatch(step, command);
  return { reply, events: step.events };
}

function dispatch(step: Step, c: PoolCommand): PoolReply {
  switch (c.type) {
    case 'checkout':
      return checkout(step, c);
    case 'checkin':
      return checkin(step, c);
    case 'renew':
      return renew(step, c);
    case 'expire':
      return expire(step);
    case 'checkout-cancel':
      return checkoutCancel(step, c);
    case 'session-open':
      return sessionOpen(step, c);
    case 'session-close':
      return sessionClose(step, c);
    case 'force-checkin':
      return forceCheckin(step, c);
    case 'license-install':
      return licenseInstall(step, c);
    case 'license-remove':
      return licenseRemove(step, c);
    case 'users-assign':
      return usersAssign(step, c);
    case 'pool-configure':
      return poolConfigure(step, c);
    case 'grace':
      return grace(step, c);
    case 'policy-set':
      return policySet(step, c);
    case 'borrow':
      return borrow(step, c);
    case 'return':
      return returnBorrowed(step, c);
    case 'borrow-key-set':
      return borrowKeySet(step, c);
    default: {
      const never: never = c;
      throw new Error(`pool: unknown command ${JSON.stringify(never)}`);
    }
  }
}

function checkin(step: Step, c: CheckinCommand): PoolReply {
  const state = step.state;
  const session = state.sessions.get(c.sessionId);
  if (session === undefined) return fail('SESSION_NOT_FOUND');
  const requests = sessionRequests(state, session);
  const h = requestHash(c.requestId);
  const key = requestKey(c);
  const first = recallIn(requests, c.requestId, h, key);
  if (first !== undefined) return first;
  const lease = state.leases.get(c.leaseId);
  let reply: PoolReply;
  // A lease of another session is answered as one that does not exist: no stranger learns which ids do.
  if (lease === undefined || lease.lingerSeq > 0 || lease.sessionId !== session.id) reply = fail('LEASE_NOT_FOUND');
  else if (lease.borrow !== undefined) reply = fail('LEASE_BORROWED');
  else reply = { ok: true, type: 'checked-in', leaseId: lease.id, lingerUntilMs: checkinLease(step, lease) };
  rememberIn(state, requests, session.clientId, c.requestId, h, key, reply);
  return reply;
}

function checkoutCancel(step: Step, c: CheckoutCancelCommand): PoolReply {
  const session = step.state.sessions.get(c.sessionId);
  if (session === undefined) return fail('SESSION_NOT_FOUND');
  const w = session.waiters.get(c.requestId);
  if (w === undefined) return fail('QUEUED_REQUEST_NOT_FOUND');
  dequeue(step, w, 'cancelled');
  return { ok: true, type: 'checkout-cancelled', requestId: c.requestId };
}

function renew(step: Step, c: RenewCommand): PoolReply {
  const state = step.state;
  if (!durationValid(state, c.leaseTtlMs, 1)) return fail('DURATION_INVALID');
  if (c.leaseIds.length + c.sessionIds.length > state.limits.renewIdsMax) return fail('BATCH_LIMIT_REACHED');
  const until = step.at + c.leaseTtlMs;
  let leaseCount = 0;
  // Allocated only when an id is unknown (the usual renewal knows them all).
  let unknownLeaseIds: string[] | undefined;
  let unknownSessionIds: string[] | undefined;
  for (const id of c.leaseIds) {
    const lease = state.leases.get(id);
    if (lease === undefined || lease.lingerSeq > 0 || lease.borrow !== undefined) {
      (unknownLeaseIds ??= []).push(id);
      continue;
    }
    leaseCount++;
    const leaseUntil = lease.pool.rules === undefined ? until : step.at + boundTtlMs(lease.pool, c.leaseTtlMs);
    if (lease.deadlineMs < leaseUntil) {
      lease.deadlineMs = leaseUntil;
      state.leaseDeadlines.update(lease);
    }
    const s = lease.session;
    const sessionUntil = leaseUntil > until ? leaseUntil : until;
    if (s !== undefined && s.deadlineMs < sessionUntil) {
      s.deadlineMs = sessionUntil;
      state.sessionDeadlines.update(s);
    }
  }
  for (const id of c.sessionIds) {
    const s = state.sessions.get(id);
    if (s === undefined) {
      (unknownSessionIds ??= []).push(id);
      continue;
    }
    let sessionUntil = until;
    for (const lease of s.leases) {
      leaseCount++;
      const leaseUntil = lease.pool.rules === undefined ? until : step.at + boundTtlMs(lease.pool, c.leaseTtlMs);
      if (leaseUntil > sessionUntil) sessionUntil = leaseUntil;
      if (lease.deadlineMs < leaseUntil) {
        lease.deadlineMs = leaseUntil;
        state.leaseDeadlines.update(lease);
      }
    }
    // The session lives at least as long as its leases (a policy may lengthen their ttl).
    if (s.deadlineMs < sessionUntil) {
      s.deadlineMs = sessionUntil;
      state.sessionDeadlines.update(s);
    }
  }
  return { ok: true, type: 'renewed', leaseCount, expiresAt: until, unknownLeaseIds: unknownLeaseIds ?? NO_IDS, unknownSessionIds: unknownSessionIds ?? NO_IDS };
}

/**
 * Everything due by `at`, in this order:
 * 1. queued checkouts whose wait ended leave their queues ('wait-timeout'),
 *    no queue served yet;
 * 2. sessions not renewed (by deadline) lose their queued checkouts
 *    ('session-closed'), then every queue is served (pools in creation order)
 *    — so no seat, already free or freed below, goes to a dead session;
 * 3. leases by deadline: held ones are revoked as expired (usage 'expiry'),
 *    lingering ones freed; each freed seat serves its queue at once;
 * 4. the sessions of 2 close: any lease they still hold (one not yet due) is
 *    checked in as on session-close.
 * A client that stops heartbeating has its session and its leases fall due
 * together (renew and grant move both): its leases are revoked as expired in 3, not
 * checked in, so they never linger.
 */
function expire(step: Step): PoolReply {
  const state = step.state;
  const at = step.at;
  let waiterCount = 0;
  let leaseCount = 0;
  let lingerCount = 0;
  for (let w = state.waiterDeadlines.peek(); w !== undefined && w.deadlineMs <= at; w = state.waiterDeadlines.peek()) {
    leaveQueue(step, w, 'wait-timeout');
    waiterCount++;
  }
  let waitersLeft = waiterCount;
  const closing: Session[] = [];
  for (let s = state.sessionDeadlines.peek(); s !== undefined && s.deadlineMs <= at; s = state.sessionDeadlines.peek()) {
    state.sessionDeadlines.remove(s);
    closing.push(s);
    waitersLeft += s.waiters.size;
    for (const w of [...s.waiters.values()]) leaveQueue(step, w, 'session-closed');
  }
  // A queue that lost its head may fit now. Every other queue's head does not (invariant), so serving it is a no-op.
  if (waitersLeft > 0) for (const pool of state.pools.values()) serveQueue(step, pool);
  for (let l = state.leaseDeadlines.peek(); l !== undefined && l.deadlineMs <= at; l = state.leaseDeadlines.peek()) {
    const pool = l.pool;
    if (l.lingerSeq > 0) {
      lingerCount++;
      releaseLease(state, l);
    } else if (l.borrow !== undefined) {
      // A borrowed seat's time is up: it ends as planned, nobody is told.
      leaseCount++;
      endBorrow(step, l);
    } else {
      leaseCount++;
      revokeLease(step, l, 'lease-expired', 'The lease expired: it was not renewed in time.');
    }
    serveQueue(step, pool);
  }
  for (const s of closing) endSession(step, s);
  return { ok: true, type: 'expired', leaseCount, lingerCount, waiterCount, sessionCount: closing.length };
}

function sessionOpen(step: Step, c: SessionOpenCommand): PoolReply {
  const state = step.state;
  if (state.sessions.has(c.sessionId)) return fail('SESSION_EXISTS');
  if (state.sessions.size >= state.limits.sessionsMax) return fail('SESSIONS_LIMIT_REACHED');
  if (!durationValid(state, c.sessionTtlMs, 1)) return fail('DURATION_INVALID');
  const s: Session = {
    id: c.sessionId,
    clientId: c.clientId,
    user: c.user,
    host: c.host,
    app: c.app,
    secretSha256: c.secretSha256 ?? '',
    ip: c.ip ?? '',
    openedAt: step.at,
    deadlineMs: step.at + c.sessionTtlMs,
    seq: state.nextSeq++,
    heapStamp: 0,
    heapKeyMs: step.at + c.sessionTtlMs,
    leases: [],
    waiters: NO_WAITERS,
    requests: undefined,
    policyCache: undefined,
    policyLastPool: undefined,
    policyLastRules: undefined,
    policyEpoch: 0,
  };
  state.sessions.set(s.id, s);
  state.sessionDeadlines.push(s);
  freeRevokedBorrows(step, s);
  return { ok: true, type: 'session-opened', sessionId: s.id };
}

/**
 * Its queued checkouts leave their queues (oldest first; one leaving may get a
 * later one of the same session granted, which is then checked in with the
 * rest), then its leases are checked in (oldest first).
 */
function closeSession(step: Step, s: Session): number {
  for (let w = s.waiters.values().next(); w.done !== true; w = s.waiters.values().next()) dequeue(step, w.value, 'session-closed');
  step.state.sessionDeadlines.remove(s);
  return endSession(step, s);
}

/**
 * The last of closing a session, whose queued checkouts are gone and which is
 * out of the session deadlines: its leases are checked in (oldest first) and
 * it is forgotten. Returns how many leases were checked in.
 */
function endSession(step: Step, s: Session): number {
  const leases = s.leases.slice();
  for (const lease of leases) checkinLease(step, lease);
  step.state.sessions.delete(s.id);
  return leases.length;
}

function sessionClose(step: Step, c: SessionCloseCommand): PoolReply {
  const s = step.state.sessions.get(c.sessionId);
  if (s === undefined) return fail('SESSION_NOT_FOUND');
  return { ok: true, type: 'session-closed', sessionId: s.id, leaseCount: closeSession(step, s) };
}

function forceCheckin(step: Step, c: ForceCheckinCommand): PoolReply {
  const lease = step.state.leases.get(c.leaseId);
  if (lease === undefined) return fail('LEASE_NOT_FOUND');
  const reason = c.reason.slice(0, FORCE_REASON_CHARS_MAX);
  const revoke = () => revokeLease(step, lease, 'force-checkin', `An administrator checked the seat in: ${reason}`, reason);
  if (lease.borrow !== undefined) {
    const untilMs = revokeBorrow(step, lease, revoke);
    if (untilMs !== undefined) return { ok: true, type: 'force-checked-in', leaseId: lease.id, borrowedUntilMs: untilMs };
  } else revoke();
  serveQueue(step, lease.pool);
  return { ok: true, type: 'force-checked-in', leaseId: lease.id };
}

function usersAssign(step: Step, c: UsersAssignCommand): PoolReply {
  const pool = step.state.pools.get(poolKey(c.feature, c.version));
  if (pool === undefined) return fail('POOL_NOT_FOUND');
  if (pool.model !== 'authorized-user') return fail('POOL_NOT_AUTHORIZED_USER');
  const users = [...new Set(c.users)];
  if (users.length > pool.seatsTotal) return fail('USERS_EXCEED_SEATS');
  const keep = new Set(users);
  for (const u of [...pool.users]) {
    if (!keep.has(u)) {
      revokeUserLeases(step, pool, u, 'user-unassigned', `${u} is no longer a named user of ${pool.feature} ${pool.version}.`);
      emit(step, usage(step, 'user-removed', pool, u, '', '', 1, ''));
    }
  }
  for (const u of users) if (!pool.users.has(u)) emit(step, usage(step, 'user-added', pool, u, '', '', 1, ''));
  pool.users.clear();
  for (const u of users) pool.users.add(u);
  return { ok: true, type: 'users-assigned', feature: pool.feature, version: pool.version, userCount: users.length };
}

function poolConfigure(step: Step, c: PoolConfigureCommand): PoolReply {
  const state = step.state;
  const pool = state.pools.get(poolKey(c.feature, c.version));
  if (pool === undefined) return fail('POOL_NOT_FOUND');
  if (!durationValid(state, c.lingerMsMax, 0)) return fail('DURATION_INVALID');
  pool.lingerMsMax = c.lingerMsMax;
  refreshCapacity(step, pool, 'license-removed');
  return { ok: true, type: 'pool-configured', feature: pool.feature, version: pool.version };
}

function grace(step: Step, c: GraceCommand): PoolReply {
  const state = step.state;
  if (!durationValid(state, c.graceMs, 0)) return fail('DURATION_INVALID');
  const until = step.at + c.graceMs;
  // A borrowed seat ends when its token does, whoever leads.
  for (const l of state.leases.values()) if (l.lingerSeq === 0 && l.borrow === undefined && l.deadlineMs < until) l.deadlineMs = until;
  for (const s of state.sessions.values()) if (s.deadlineMs < until) s.deadlineMs = until;
  for (const pool of state.pools.values()) for (const w of pool.queue) if (w.deadlineMs < until) w.deadlineMs = until;
  // Deadlines only moved later, most of them: refile each heap at once rather than entry by entry.
  state.leaseDeadlines.refileAll();
  state.sessionDeadlines.refileAll();
  state.waiterDeadlines.refileAll();
  return { ok: true, type: 'grace', untilMs: until };
}
