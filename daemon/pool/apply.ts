// apply(state, command, index): the seat-pool state machine's one transition,
// and the licensing rule of each command (the license commands' in
// license-rules.ts). Everything else in this folder is the indexes those
// rules keep in step (seats.ts, capacity.ts).
import { applyLicenseTransitions, licenseWindowLeft, refreshCapacity, revokeUserLeases } from './capacity.ts';
import { servableSeats } from './servable-seats.ts';
import type {
  CheckinCommand,
  CheckoutCancelCommand,
  CheckoutCommand,
  ForceCheckinCommand,
  GraceCommand,
  PoolCommand,
  PoolConfigureCommand,
  RenewCommand,
  SessionCloseCommand,
  SessionOpenCommand,
  UsersAssignCommand,
} from './commands.ts';
import { licenseInstall, licenseRemove } from './license-rules.ts';
import type { IdentityRules } from './policy-compile.ts';
import { boundTtlMs, maxBroken, ownIdle, queueSlot, servable, sessionRules } from './policy-seats.ts';
import { borrow, borrowKeySet, endBorrow, freeRevokedBorrows, returnBorrowed, revokeBorrow } from './borrow.ts';
import { policySet } from './policy-set.ts';
import { durationValid, fail, maxRefusal, scanAhead } from './refusal.ts';
import { addWaiter, createPoolState, NO_WAITERS, poolKey, type Pool, type PoolState, type Session, type Waiter } from './pool-state.ts';
import type { ApplyResult, PoolError, PoolReply } from './results.ts';
import {
  announcePositions,
  checkinLease,
  dequeue,
  emit,
  grantLease,
  leaseGrant,
  leaveQueue,
  lingerKey,
  NO_EVENTS,
  denial,
  releaseLease,
  revokeLease,
  queueLetsPass,
  serveQueue,
  usage,
  type Step,
} from './seats.ts';
import {
  recallIn,
  rememberIn,
  requestHash,
  requestIdReused,
  requestKey,
  sameRequest,
  sessionRequests,
} from './request-memory.ts';
import { compareVersions, parseVersion } from './version.ts';

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
  // One Step for every command: apply never runs inside another apply.
  const step = STEP;
  step.state = state;
  step.at = state.nowMs;
  step.index = index;
  step.events = NO_EVENTS;
  if (licenseWindowLeft(state)) applyLicenseTransitions(step);
  const reply = dispatch(step, command);
  const events = step.events;
  step.events = NO_EVENTS;
  return { reply, events };
}

/** The context of the command being applied (reused: one object less per command). */
const STEP: Step = { state: createPoolState(), at: 0, index: 0, events: NO_EVENTS };

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

function checkout(step: Step, c: CheckoutCommand): PoolReply {
  const session = step.state.sessions.get(c.sessionId);
  if (session === undefined) return fail('SESSION_NOT_FOUND');
  const requests = sessionRequests(step.state, session);
  const h = requestHash(c.requestId);
  const key = requestKey(c);
  const first = recallIn(requests, c.requestId, h, key);
  if (first !== undefined) return first;
  // A queued checkout whose answer the ring forgot is still known by its queue place.
  const waiting = session.waiters.size === 0 ? undefined : session.waiters.get(c.requestId);
  if (waiting !== undefined && !sameRequest(waiting.requestKey, key)) return requestIdReused(c.requestId, waiting.requestKey);
  const reply = checkoutRule(step, c, session, key);
  if (!reply.ok) {
    emit(step, denial(step, c.feature, c.version ?? '', session, c.count, reply.code));
  }
  // The checkout may have served the queue and so remembered other requests of this client: same ring, still valid.
  rememberIn(step.state, requests, session.clientId, c.requestId, h, key, reply);
  return reply;
}

/**
 * Pools of the feature whose version is at least the one asked for are tried
 * in ascending version; the first that can serve does. Under the seat policy
 * (docs/policy.md) a pool first refuses a session it excludes or whose max
 * limit the checkout would break. Then a lingering seat of the same user and
 * host is reclaimed, else free seats are taken — free for this session: less
 * those reserved, idle, for others, and behind queued checkouts only seats
 * none of them waits for (without rules: a pool with waiters serves them
 * first). Failing all, with a concurrent pool the policy did not refuse:
 * COUNT_EXCEEDS_SEATS when none could ever hold `count` seats (never
 * queued); else NO_SEATS, or with `wait` the queue of the lowest one that
 * could (at its priority's place, within the session's queuedPerSessionMax).
 * Otherwise the first refusal.
 */
function checkoutRule(step: Step, c: CheckoutCommand, session: Session, key: string): PoolReply {
  const state = step.state;
  const count = c.count;
  if (!Number.isInteger(count) || count < 1) return fail('COUNT_INVALID');
  if (!durationValid(state, c.leaseTtlMs, 1) || (c.wait && !durationValid(state, c.waitMs, 0))) {
    return fail('DURATION_INVALID');
  }
  // Most sessions wait for nothing: skip hashing the request id for an empty map.
  const existing = session.waiters.size === 0 ? undefined : session.waiters.get(c.requestId);
  if (existing !== undefined) return queued(existing);
  if (session.leases.length + session.waiters.size >= state.limits.leasesPerSessionMax) {
    return fail('LEASES_PER_SESSION_LIMIT_REACHED');
  }
  const pools = state.poolsByFeature.get(c.feature);
  if (pools === undefined) return fail('UNKNOWN_FEATURE');
  const asked = c.version === undefined ? null : parseVersion(c.version);
  if (asked === null && c.version !== undefined) return fail('VERSION_NOT_LICENSED');
  /** The lowest eligible concurrent pool that could ever grant `count` seats: where the checkout queues. */
  let fitting: Pool | undefined;
  let fittingRules: IdentityRules | undefined;
  /** Of the eligible concurrent pools the policy did not refuse: the largest seatsCeiling, seats held, licensed, queued, and reserved for others (for a true refusal). */
  let concurrentPools = 0;
  let ceilingMax = 0;
  let held = 0;
  let total = 0;
  let waiting = 0;
  /** Of `total`: the seats of the keys that pass on the serving node (c.licenseIds), when it names them. */
  let served = 0;
  let reservedForOthers = 0;
  let reservedBy: string[] | undefined;
  let refusal: PoolError | undefined;
  const leasesMax = state.limits.leasesPerPoolMax;
  for (const pool of pools) {
    if (asked !== null && compareVersions(pool.versionParts, asked) < 0) continue;
    const ir = pool.rules === undefined ? undefined : sessionRules(state, session, pool);
    if (ir?.excluded !== undefined) {
      refusal ??= fail('POLICY_EXCLUDED', ir.excluded);
      continue;
    }
    if (pool.model === 'concurrent') {
      if (pool.lingering.size > 0) {
        const list = pool.lingering.get(lingerKey(session.user, session.host));
        const old = list?.find((l) => l.count >= count);
        if (old !== undefined) {
          const broken = ir === undefined ? undefined : maxBroken(pool, ir, count, old);
          if (broken !== undefined) {
            refusal ??= maxRefusal(broken.rule.text, session);
            continue;
          }
          releaseLease(state, old);
          const lease = grantLease(step, pool, session, count, c.leaseTtlMs, ir);
          serveQueue(step, pool);
          return { ok: true, type: 'granted', lease: leaseGrant(lease) };
        }
      }
      if (ir !== undefined) {
        const broken = maxBroken(pool, ir, count, undefined);
        if (broken !== undefined) {
          refusal ??= maxRefusal(broken.rule.text, session);
          continue;
        }
      }
      concurrentPools++;
      if (pool.seatsCeiling > ceilingMax) ceilingMax = pool.seatsCeiling;
      if (fitting === undefined && pool.seatsCeiling >= count) {
        fitting = pool;
        fittingRules = ir;
      }
      held += pool.seatsInUse;
      total += pool.seatsTotal;
      waiting += pool.queue.length;
      if (c.licenseIds !== undefined) served += servableSeats(state, pool, c.licenseIds);
      if (ir === undefined) {
        if (pool.seatsTotal - pool.seatsInUse >= count && withinServable(state, pool, c.licenseIds, count) && queueLetsPass(state, pool)) {
          if (pool.leaseCount >= leasesMax) return fail('LEASES_PER_POOL_LIMIT_REACHED');
          return { ok: true, type: 'granted', lease: leaseGrant(grantLease(step, pool, session, count, c.leaseTtlMs)) };
        }
        continue;
      }
      const scan = scanAhead(state, pool, ir.priority);
      if (servable(pool, ir, count, scan) && withinServable(state, pool, c.licenseIds, count)) {
        if (pool.leaseCount >= leasesMax) return fail('LEASES_PER_POOL_LIMIT_REACHED');
        const lease = grantLease(step, pool, session, count, c.leaseTtlMs, ir, scan.blocked ? scan.blockedReserves : undefined);
        return { ok: true, type: 'granted', lease: leaseGrant(lease) };
      }
      if (pool.reservedIdle > 0) {
        reservedForOthers += pool.reservedIdle - ownIdle(pool, ir, undefined);
        const mine = new Set(ir.reserves);
        (pool.rules?.reserves ?? []).forEach((r, i) => {
          if (!mine.has(i) && (pool.reserveHeld[i] ?? 0) < (r.rule.kind === 'reserve' ? r.rule.count : 0)) (reservedBy ??= []).push(r.text);
        });
      }
      continue;
    }
    if (!pool.users.has(session.user)) {
      refusal ??= fail('NOT_AUTHORIZED_USER', notNamedText(session.user, c.feature));
      continue;
    }
    if (count !== 1) {
      refusal ??= fail('COUNT_INVALID');
      continue;
    }
    const hosts = pool.userHosts.get(session.user);
    if (hosts !== undefined && !hosts.has(session.host) && hosts.size >= pool.hostsPerUserMax) {
      refusal ??= fail('HOSTS_PER_USER_REACHED', hostsReachedText(session.user, c.feature, pool.hostsPerUserMax));
      continue;
    }
    // A user not holding the seat yet takes one more of the keys that serve here.
    if (hosts === undefined && !withinServable(state, pool, c.licenseIds, 1)) {
      refusal ??= fail('NO_SEATS');
      continue;
    }
    if (pool.leaseCount >= leasesMax) return fail('LEASES_PER_POOL_LIMIT_REACHED');
    return { ok: true, type: 'granted', lease: leaseGrant(grantLease(step, pool, session, count, c.leaseTtlMs)) };
  }
  if (concurrentPools > 0) {
    if (fitting === undefined) {
      return fail('COUNT_EXCEEDS_SEATS', `${c.feature}: this checkout asks ${count} of ${ceilingMax} seats; no pool of it has more, so it could never be granted.`);
    }
    if (!c.wait) {
      const reserved = reservedForOthers > 0 ? ` and ${reservedForOthers} more are reserved for others (${[...new Set(reservedBy)].join('; ')})` : '';
      const ahead = waiting > 0 ? ` and ${waiting} queued checkouts come first` : '';
      const note = c.licenseIds !== undefined && served < total ? `; this server serves ${served} of them (the keys that pass its lock codes)` : '';
      return fail('NO_SEATS', `No seat of ${c.feature} for this checkout of ${count}: ${held} of ${total} seats are held${reserved}${ahead}${note}.`);
    }
    const queuedMax = c.queuedPerSessionMax;
    if (queuedMax !== undefined && session.waiters.size >= queuedMax) {
      return fail('QUEUED_PER_SESSION_LIMIT_REACHED', `This session already has ${session.waiters.size} checkouts queued, the most the server allows (queuedPerSessionMax ${queuedMax}).`);
    }
    if (fitting.queue.length >= state.limits.queueLengthMax) return fail('QUEUE_FULL');
    const seq = state.nextSeq++;
    const w: Waiter = {
      requestId: c.requestId,
      requestKey: key,
      licenseIds: c.licenseIds,
      session,
      pool: fitting,
      count,
      leaseTtlMs: c.leaseTtlMs,
      priority: fittingRules?.priority ?? 0,
      enqueuedAt: step.at,
      deadlineMs: step.at + c.waitMs,
      seq,
      heapStamp: 0,
      heapKeyMs: step.at + c.waitMs,
    };
    const slot = queueSlot(fitting.queue, w.priority);
    if (slot === fitting.queue.length) fitting.queue.push(w);
    else fitting.queue.splice(slot, 0, w);
    addWaiter(w);
    state.waiterDeadlines.push(w);
    if (slot < fitting.queue.length - 1) announcePositions(step, fitting, slot + 1);
    return queued(w);
  }
  return refusal ?? fail('VERSION_NOT_LICENSED');
}

/** NOT_AUTHORIZED_USER in words the refused user can act on: who, and who fixes it how. */
function notNamedText(user: string, feature: string): string {
  return `${user} is not a named user of ${feature}: an authorized-user license serves only the users an admin names (floe users set --feature ${feature} USER…, or PUT /api/v1/pools/${feature}/users).`;
}

/** HOSTS_PER_USER_REACHED in words the user can act on. */
function hostsReachedText(user: string, feature: string, hostsMax: number): string {
  return `${user} already holds the seat of ${feature} on ${hostsMax} other host${hostsMax === 1 ? '' : 's'}, the most the license allows; check it in there first.`;
}

/** True when `count` more seats of `pool` stay within the seats of the keys `licenseIds` names (servableSeats). */
function withinServable(state: PoolState, pool: Pool, licenseIds: readonly string[] | undefined, count: number): boolean {
  return licenseIds === undefined || servableSeats(state, pool, licenseIds) - pool.seatsInUse >= count;
}

function queued(w: Waiter): PoolReply {
  return {
    ok: true,
    type: 'queued',
    feature: w.pool.feature,
    version: w.pool.version,
    position: w.pool.queue.indexOf(w) + 1,
    waitUntilMs: w.deadlineMs,
  };
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
  let unknownLeaseIds = NO_IDS as string[];
  let unknownSessionIds = NO_IDS as string[];
  for (const id of c.leaseIds) {
    const lease = state.leases.get(id);
    if (lease === undefined || lease.lingerSeq > 0 || lease.borrow !== undefined) {
      if (unknownLeaseIds === NO_IDS) unknownLeaseIds = [];
      unknownLeaseIds.push(id);
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
      if (unknownSessionIds === NO_IDS) unknownSessionIds = [];
      unknownSessionIds.push(id);
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
  return { ok: true, type: 'renewed', leaseCount, expiresAt: until, unknownLeaseIds, unknownSessionIds };
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
  // Deadlines only moved later: the heaps refile them lazily.
  return { ok: true, type: 'grace', untilMs: until };
}
