// The checkout rule: which pool of a feature serves a checkout, under the
// seat policy and the keys the serving node may count, or why none does,
// or where it queues (docs/protocol.md, docs/policy.md). The most involved
// rule of the pool, and the one every client request but a heartbeat
// reaches: apart from apply.ts so it reads on its own.
import type { CheckoutCommand } from './commands.ts';
import type { IdentityRules } from './policy-compile.ts';
import { maxBroken, ownIdle, queueSlot, servable, sessionRules } from './policy-seats.ts';
import { addWaiter, type Pool, type PoolState, type Session, type Waiter } from './pool-state.ts';
import { durationValid, fail, maxRefusal, scanAhead } from './refusal.ts';
import { recallIn, rememberIn, requestHash, requestIdReused, requestKey, sessionRequests } from './request-memory.ts';
import type { PoolError, PoolReply } from './results.ts';
import { servableSeats } from './servable-seats.ts';
import { announcePositions, denial, emit, grantLease, leaseGrant, lingerKey, queueLetsPass, releaseLease, serveQueue, type Step } from './seats.ts';
import { compareVersions, parseVersion } from './version.ts';
/**
 * The checkout command: a retry gets its first answer (request-memory.ts);
 * otherwise checkoutRule decides, a refusal is recorded as a denial, and the
 * answer is remembered for the next retry.
 */
export function checkout(step: Step, c: CheckoutCommand): PoolReply {
  const session = step.state.sessions.get(c.sessionId);
  if (session === undefined) return fail('SESSION_NOT_FOUND');
  const requests = sessionRequests(step.state, session);
  const h = requestHash(c.requestId);
  const key = requestKey(c);
  const first = recallIn(requests, c.requestId, h, key);
  if (first !== undefined) return first;
  // A queued checkout whose answer the ring forgot is still known by its queue place.
  const waiting = session.waiters.size === 0 ? undefined : session.waiters.get(c.requestId);
  if (waiting !== undefined && waiting.requestKey !== key) return requestIdReused(c.requestId, waiting.requestKey);
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

/** The reply of a checkout that waits in the queue as `w`. */
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
