// The leases a session holds, as the client protocol lists them (a resumed
// session's `hello` reply, the `status` request).
import type { LeaseView, PoolState } from '../pool/index.ts';

/** The held leases of `sessionId` in `pool`, oldest first; [] for an unknown session. */
export function sessionLeaseViews(pool: Readonly<PoolState>, sessionId: string): LeaseView[] {
  const s = pool.sessions.get(sessionId);
  if (s === undefined) return [];
  const out: LeaseView[] = [];
  for (const l of s.leases) {
    out.push({
      leaseId: l.id,
      feature: l.pool.feature,
      version: l.pool.version,
      count: l.count,
      user: l.user,
      host: l.host,
      clientId: l.clientId,
      sessionId: l.sessionId,
      checkedOutAt: l.checkedOutAt,
      expiresAt: l.deadlineMs,
      lingering: l.lingerSeq > 0,
      fencingToken: l.fencingToken,
    });
  }
  return out;
}
