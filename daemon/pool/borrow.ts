// Borrowing (commuter use): a client takes a seat offline for hours. A
// borrowed seat is a lease with no session, never renewed, that ends at its
// deadline; it counts in its pool like any held seat (seatsInUse, and
// seatsBorrowed beside). The node signs the borrow token (I/O layer) from
// the `borrowed` reply; the pool records the borrow and keeps the signing
// key the cluster agreed on. The rules are in docs/client.md and
// docs/policy.md ("Settings").
import type { BorrowCommand, BorrowKeySetCommand, ReturnCommand } from './commands.ts';
import { accountLease, maxBroken, servable, sessionRules } from './policy-seats.ts';
import { NO_DRAWS, NO_COUNTERS, type Lease, type Pool, type Session } from './pool-state.ts';
import { fail, maxRefusal, scanAhead } from './refusal.ts';
import type { PoolError, PoolReply } from './results.ts';
import { denial, emit, holdSeats, leaseGrant, releaseLease, serveQueue, usage, type Step } from './seats.ts';
import { recallIn, rememberIn, requestHash, requestIdReused, sessionRequests } from './request-memory.ts';
import { servableSeats } from './servable-seats.ts';
import { compareVersions, parseVersion } from './version.ts';

/** Characters of a machine fingerprint, at most. */
export const FINGERPRINT_CHARS_MAX = 128;

const HOUR_MS = 3_600_000;

/** The request key of a borrow or return: a retry of its requestId must repeat it. */
export function borrowRequestKey(c: Pick<BorrowCommand, 'type' | 'feature' | 'version' | 'durationMs' | 'fingerprint'> | Pick<ReturnCommand, 'type' | 'leaseId'>): string {
  return c.type === 'borrow' ? `borrow\u0000${c.feature}\u0000${c.version ?? ''}\u0000${c.durationMs}\u0000${c.fingerprint}` : `return\u0000${c.leaseId}`;
}

function hours(ms: number): string {
  const h = ms / HOUR_MS;
  return Number.isInteger(h) ? `${h}` : h.toFixed(2);
}

/** Applies a borrow (see BorrowCommand), remembered like a checkout. */
export function borrow(step: Step, c: BorrowCommand): PoolReply {
  const state = step.state;
  const session = state.sessions.get(c.sessionId);
  if (session === undefined) return fail('SESSION_NOT_FOUND');
  const requests = sessionRequests(state, session);
  const h = requestHash(c.requestId);
  const key = borrowRequestKey(c);
  const first = recallIn(requests, c.requestId, h, key);
  if (first !== undefined) return first;
  const waiting = session.waiters.size === 0 ? undefined : session.waiters.get(c.requestId);
  if (waiting !== undefined) return requestIdReused(c.requestId, waiting.requestKey);
  const reply = borrowRule(step, c, session);
  if (!reply.ok) {
    emit(step, denial(step, c.feature, c.version ?? '', session, 1, reply.code, 'borrow'));
  }
  rememberIn(state, requests, session.clientId, c.requestId, h, key, reply);
  return reply;
}

/**
 * Pools of the feature at least the version asked for, lowest first; the
 * first that may lend a seat does. Each refuses, in this order: an
 * authorized-user pool; the policy's exclusions (use, then borrow lists);
 * no key allowing borrowing; a borrow longer than the key's or the policy's
 * hours; a max limit; the borrow low-water mark and share; no seat free for
 * this session, or none within the keys that pass on its serving node
 * (licenseIds; a borrow never queues). Failing all: the first refusal.
 */
function borrowRule(step: Step, c: BorrowCommand, session: Session): PoolReply {
  const state = step.state;
  if (!Number.isInteger(c.durationMs) || c.durationMs < 1 || c.durationMs > state.limits.borrowMsMax) return fail('DURATION_INVALID');
  if (typeof c.fingerprint !== 'string' || c.fingerprint.length === 0 || c.fingerprint.length > FINGERPRINT_CHARS_MAX) return fail('FINGERPRINT_INVALID');
  const pools = state.poolsByFeature.get(c.feature);
  if (pools === undefined) return fail('UNKNOWN_FEATURE');
  const asked = c.version === undefined ? null : parseVersion(c.version);
  if (asked === null && c.version !== undefined) return fail('VERSION_NOT_LICENSED');
  let refusal: PoolError | undefined;
  for (const pool of pools) {
    if (asked !== null && compareVersions(pool.versionParts, asked) < 0) continue;
    const name = `${pool.feature} ${pool.version}`;
    if (pool.model !== 'concurrent') {
      refusal ??= fail('BORROW_NOT_ALLOWED', `${name} is an authorized-user pool: its seats are not borrowed.`);
      continue;
    }
    const ir = pool.rules === undefined ? undefined : sessionRules(state, session, pool);
    if (ir?.borrowExcluded !== undefined) {
      refusal ??= fail('POLICY_EXCLUDED', ir.borrowExcluded);
      continue;
    }
    if (pool.borrowMsMax === 0) {
      refusal ??= fail('BORROW_NOT_ALLOWED', `No key of ${name} in force allows borrowing.`);
      continue;
    }
    const policyMs = pool.rules?.settings.borrowMsMax ?? Number.POSITIVE_INFINITY;
    const longest = policyMs < pool.borrowMsMax ? policyMs : pool.borrowMsMax;
    if (c.durationMs > longest) {
      const by = policyMs < pool.borrowMsMax ? 'the seat policy' : 'its key';
      refusal ??= fail('BORROW_TOO_LONG', `A seat of ${name} may be borrowed for at most ${hours(longest)} hours (${by}); ${hours(c.durationMs)} were asked.`);
      continue;
    }
    if (ir !== undefined) {
      const broken = maxBroken(pool, ir, 1, undefined);
      if (broken !== undefined) {
        refusal ??= maxRefusal(broken.rule.text, session);
        continue;
      }
    }
    const limit = borrowLimit(pool);
    if (pool.seatsBorrowed + 1 > limit) {
      const s = pool.rules?.settings;
      refusal ??= fail(
        'BORROW_LIMIT_REACHED',
        `${pool.seatsBorrowed} of the ${pool.seatsTotal} seats of ${name} are borrowed, the most the seat policy allows (borrow_low_water ${s?.borrowLowWater ?? 0}, borrow_share_percent_max ${s?.borrowSharePercentMax ?? 100}).`,
      );
      continue;
    }
    const scan = scanAhead(state, pool, ir?.priority ?? 0);
    if (!servable(pool, ir, 1, scan)) {
      refusal ??= fail('NO_SEATS', `Every seat of ${c.feature} that could be borrowed is held, reserved for others or waited for.`);
      continue;
    }
    if (c.licenseIds !== undefined) {
      const served = servableSeats(state, pool, c.licenseIds);
      if (served - pool.seatsInUse < 1) {
        refusal ??= fail('NO_SEATS', `Every seat of ${c.feature} this server serves is held: ${pool.seatsInUse} of ${pool.seatsTotal} seats are held and it serves ${served} of them (the keys that pass its lock codes).`);
        continue;
      }
    }
    if (pool.leaseCount >= state.limits.leasesPerPoolMax) return fail('LEASES_PER_POOL_LIMIT_REACHED');
    const lease = grantBorrow(step, pool, session, c, scan.blocked ? scan.blockedReserves : undefined);
    return {
      ok: true,
      type: 'borrowed',
      lease: leaseGrant(lease),
      borrowedAt: lease.checkedOutAt,
      clientId: lease.clientId,
      user: lease.user,
      host: lease.host,
      fingerprint: c.fingerprint,
    };
  }
  return refusal ?? fail('VERSION_NOT_LICENSED');
}

/** Seats of `pool` that may be borrowed at once: its seats less the low-water mark, and within the share. */
export function borrowLimit(pool: Pool): number {
  const s = pool.rules?.settings;
  if (s === undefined) return pool.seatsTotal;
  const byLowWater = pool.seatsTotal - s.borrowLowWater;
  const byShare = Math.floor((pool.seatsTotal * s.borrowSharePercentMax) / 100);
  return byLowWater < byShare ? byLowWater : byShare;
}

/** A borrowed lease of one seat of `pool` for `session`'s client, until `at + durationMs`. */
function grantBorrow(step: Step, pool: Pool, session: Session, c: BorrowCommand, blocked: ReadonlySet<number> | undefined): Lease {
  const state = step.state;
  const seq = state.nextSeq++;
  const deadlineMs = step.at + c.durationMs;
  const lease: Lease = {
    id: `L${seq}`,
    seq,
    pool,
    sessionId: session.id,
    session: undefined,
    clientId: session.clientId,
    user: session.user,
    host: session.host,
    app: session.app,
    ip: session.ip,
    count: 1,
    checkedOutAt: step.at,
    fencingToken: step.index,
    deadlineMs,
    heapStamp: 0,
    heapKeyMs: deadlineMs,
    lingerSeq: 0,
    inTable: false,
    policyCounters: NO_COUNTERS,
    draws: NO_DRAWS,
    borrow: { fingerprint: c.fingerprint, revoked: false },
  };
  state.leases.add(lease);
  pool.leaseCount++;
  state.leaseDeadlines.push(lease);
  holdSeats(pool, lease);
  if (pool.rules !== undefined) accountLease(pool, lease, sessionRules(state, session, pool), blocked);
  emit(step, usage(step, 'borrow', pool, lease.user, lease.host, lease.clientId, 1, lease.id));
  return lease;
}

/** Applies a return (see ReturnCommand), remembered like a checkin; needs no session. */
export function returnBorrowed(step: Step, c: ReturnCommand): PoolReply {
  const state = step.state;
  const requests = state.remembered.get(c.clientId);
  const h = requestHash(c.requestId);
  const key = borrowRequestKey(c);
  const first = recallIn(requests, c.requestId, h, key);
  if (first !== undefined) return first;
  const lease = state.leases.get(c.leaseId);
  let reply: PoolReply;
  // Another client's lease is answered as one that does not exist: nobody learns which ids do.
  if (lease === undefined || lease.clientId !== c.clientId) reply = fail('LEASE_NOT_FOUND');
  else if (lease.borrow === undefined) reply = fail('LEASE_NOT_BORROWED');
  else {
    emit(step, usage(step, 'return', lease.pool, lease.user, lease.host, lease.clientId, lease.count, lease.id));
    releaseLease(state, lease);
    serveQueue(step, lease.pool);
    reply = { ok: true, type: 'returned', leaseId: lease.id };
  }
  rememberIn(state, requests, c.clientId, c.requestId, h, key, reply);
  return reply;
}

/** A borrowed lease reached its deadline: its seat comes back. Does not serve the queue. */
export function endBorrow(step: Step, lease: Lease): void {
  emit(step, usage(step, 'borrow-end', lease.pool, lease.user, lease.host, lease.clientId, lease.count, lease.id));
  releaseLease(step.state, lease);
}

/**
 * An admin (or a policy change) revokes a borrowed lease. When the session
 * that borrowed it is still open, its client is online: the seat comes back
 * now and the client is told (like any revocation). Otherwise the client is
 * offline with a token it may still use: the seat stays held until the
 * borrow ends or the client next opens a session. Returns the borrow's end
 * (`ms`) when the seat is still held, else undefined. Does not serve the queue.
 */
export function revokeBorrow(step: Step, lease: Lease, revoke: () => void): number | undefined {
  const state = step.state;
  const borrow = lease.borrow;
  if (borrow === undefined) throw new Error('assert: revokeBorrow of a lease not borrowed');
  const s = state.sessions.get(lease.sessionId);
  if (s !== undefined && s.clientId === lease.clientId) {
    revoke();
    return undefined;
  }
  if (!borrow.revoked) {
    borrow.revoked = true;
    state.revokedBorrows++;
  }
  return lease.deadlineMs;
}

/** `session` just opened: borrowed seats of its client revoked while it was offline come back now, and it is told. */
export function freeRevokedBorrows(step: Step, session: Session): void {
  const state = step.state;
  if (state.revokedBorrows === 0) return;
  const gone: Lease[] = [];
  for (const l of state.leases.values()) if (l.borrow?.revoked === true && l.clientId === session.clientId) gone.push(l);
  for (const l of gone) {
    emit(step, usage(step, 'revoke', l.pool, l.user, l.host, l.clientId, l.count, l.id, 'borrow-revoked'));
    emit(step, {
      kind: 'revoked',
      leaseId: l.id,
      clientId: l.clientId,
      sessionId: session.id,
      feature: l.pool.feature,
      version: l.pool.version,
      reason: 'borrow-revoked',
      message: 'An administrator revoked this borrowed seat while this client was offline; the seat is back in the pool and the borrow token is void.',
    });
    releaseLease(state, l);
    serveQueue(step, l.pool);
  }
}

/** Sets the cluster's borrow-token key unless one is set already. */
export function borrowKeySet(step: Step, c: BorrowKeySetCommand): PoolReply {
  const state = step.state;
  if (state.borrowKey !== undefined) return { ok: true, type: 'borrow-key-set', publicKey: state.borrowKey.publicKey, changed: false };
  if (!/^[A-Za-z0-9_-]{43}$/.test(c.publicKey) || !/^[A-Za-z0-9_-]{43}$/.test(c.secretKey)) return fail('BORROW_KEY_INVALID');
  state.borrowKey = { publicKey: c.publicKey, secretKey: c.secretKey };
  return { ok: true, type: 'borrow-key-set', publicKey: c.publicKey, changed: true };
}
