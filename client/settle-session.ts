// What a hello answer means for what the client held before it: a resumed
// session keeps its leases (with the deadlines the server lists now), a new
// session after a lost one keeps nothing. Either way the client tells its
// application, by `revoked` events, which leases it no longer holds.
import { randomUUID } from 'node:crypto';
import type { Lease, RevokedEvent } from './client-events.ts';
import type { PendingCalls } from './pending-calls.ts';
import type { LeaseInfoFrame, RevokedLeaseFrame } from './server-frames.ts';

/** How the session opened by a hello relates to the client's previous one. */
export interface SessionOutcome {
  /** A session was open before (this hello follows a reconnect). */
  readonly everConnected: boolean;
  /** The server carried the previous session over. */
  readonly resumed: boolean;
  /** The leases the resumed session holds, when the server listed them. */
  readonly listed: readonly LeaseInfoFrame[] | undefined;
  /** Why the resumed session's leases that ended lately ended, when the server says (hello's `revoked`). */
  readonly revoked?: readonly RevokedLeaseFrame[] | undefined;
}

/**
 * Brings `leases` and `calls` in line with the session a hello opened and
 * answers the `revoked` events to emit (the caller emits them once the
 * session is ready).
 */
export function settleSession(outcome: SessionOutcome, leases: Map<string, Lease>, calls: PendingCalls): RevokedEvent[] {
  if (outcome.everConnected && !outcome.resumed) return forgetLostSession(leases, calls);
  if (outcome.resumed && outcome.listed !== undefined) return reconcileLeases(outcome.listed, outcome.revoked ?? [], leases, calls);
  return [];
}

/** The server no longer has our session: its leases and queue places are gone, and so is the meaning of its requestIds. */
function forgetLostSession(leases: Map<string, Lease>, calls: PendingCalls): RevokedEvent[] {
  const revoked = [...leases.values()].map((lease) => ({
    leaseId: lease.leaseId,
    lease,
    feature: lease.feature,
    code: 'SESSION_LOST',
    reason: 'the session ended on the server (not renewed in time); its leases were released',
  }));
  leases.clear();
  for (const call of [...calls.values()]) {
    if (call.kind === 'checkout' && !call.abandoned) {
      // Whatever the old requestId got was released with the old session, so
      // a fresh id cannot take a second seat, and the old one would only
      // replay an answer that no longer holds.
      call.requestId = randomUUID();
      call.queued = false;
    } else if (call.kind === 'checkin') {
      calls.remove(call);
      call.resolve();
    } else if (call.kind === 'request') {
      // A borrow or a return outlives its session: the pool remembers its answer
      // by client, so the same requestId in the new session gets the first one.
    } else {
      calls.remove(call);
    }
  }
  return revoked;
}

/**
 * A resumed session lists its leases: adopt their deadlines; a lease it no
 * longer lists is gone, for the reason the server gives when it gives one.
 */
function reconcileLeases(listed: readonly LeaseInfoFrame[], ended: readonly RevokedLeaseFrame[], leases: Map<string, Lease>, calls: PendingCalls): RevokedEvent[] {
  const byId = new Map(listed.map((l) => [l.leaseId, l]));
  const whyEnded = new Map(ended.map((r) => [r.leaseId, r]));
  const revoked: RevokedEvent[] = [];
  for (const [leaseId, lease] of [...leases]) {
    const info = byId.get(leaseId);
    if (info !== undefined) {
      leases.set(leaseId, { ...lease, expiresAt: info.expiresAt });
      continue;
    }
    leases.delete(leaseId);
    if (calls.pendingCheckin(leaseId) !== undefined) continue; // checked in while we were away
    const why = whyEnded.get(leaseId);
    revoked.push({
      leaseId,
      lease,
      feature: lease.feature,
      code: why?.code || 'LEASE_LOST',
      reason: why?.reason || 'the resumed session no longer holds this lease (it ended while the client was away)',
    });
  }
  return revoked;
}
