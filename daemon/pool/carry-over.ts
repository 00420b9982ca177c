// A renewal carries its pool over: when a key of a newer version supersedes
// the only key of an older version's pool, that pool's leases (held,
// lingering, borrowed), its named users and its queued checkouts move into
// the new key's pool of the same feature, which serves every checkout the
// old one did (a pool serves versions up to its own). Nobody is revoked for
// the swap itself; the new pool's capacity then applies as after any
// install (a renewal with fewer seats revokes the newest leases beyond it).
// Lease ids, deadlines and fencing tokens stay: a client keeps renewing and
// checks in the lease it was granted.
import { poolLeases } from './capacity.ts';
import { assert } from './assert.ts';
import { accountLease, rulesFor, sessionRules, queueSlot, unaccountLease, withCounters } from './policy-seats.ts';
import type { Lease, Pool, PoolState } from './pool-state.ts';
import { emit, holdSeats, lingerKey, removeLingering, unholdSeats, usage, type Step } from './seats.ts';
import { compareVersions } from './version.ts';

/**
 * True when `to`, a pool of the superseding key, takes over `from`, a pool
 * only the superseded key had: the same feature and model, a newer version,
 * and no key left in `from`.
 */
export function carriesOver(from: Pool, to: Pool): boolean {
  return (
    from !== to &&
    from.feature === to.feature &&
    from.model === to.model &&
    from.licenseIds.length === 0 &&
    compareVersions(to.versionParts, from.versionParts) > 0
  );
}

/**
 * Moves `from`'s leases (in grant order), named users (behind `to`'s own,
 * usage `user-added`) and queued checkouts (each behind the waiters of at
 * least its priority under `to`'s rules) into `to`, as many as `to`'s limits
 * on leases and queue length allow: what does not fit stays in `from`, whose
 * refresh then ends it as a removal would. The users stay named in `from`
 * too, so that its refresh records them leaving it (usage `user-removed`).
 * Refreshes no capacity: the caller does.
 */
export function carryOver(step: Step, from: Pool, to: Pool): void {
  const state = step.state;
  assert(carriesOver(from, to), 'carryOver between pools that do not carry over');
  for (const lease of poolLeases(state, from)) {
    if (to.leaseCount >= state.limits.leasesPerPoolMax) break;
    moveLease(state, lease, from, to);
  }
  for (const user of from.users) {
    if (to.users.has(user)) continue;
    to.users.add(user);
    emit(step, usage(step, 'user-added', to, user, '', '', 1, ''));
  }
  let kept = 0;
  for (const w of from.queue) {
    if (to.queue.length >= state.limits.queueLengthMax) {
      from.queue[kept++] = w;
      continue;
    }
    w.pool = to;
    w.priority = sessionRules(state, w.session, to)?.priority ?? 0;
    to.queue.splice(queueSlot(to.queue, w.priority), 0, w);
  }
  from.queue.length = kept;
}

function moveLease(state: PoolState, lease: Lease, from: Pool, to: Pool): void {
  if (lease.policyCounters.length > 0 || lease.draws.length > 0) unaccountLease(from, lease);
  unholdSeats(from, lease);
  from.leaseCount--;
  if (lease.lingerSeq > 0) {
    removeLingering(from, lease);
    const key = lingerKey(lease.user, lease.host);
    const into = to.lingering.get(key);
    if (into === undefined) to.lingering.set(key, [lease]);
    else {
      // Oldest linger first, as checkinLease appends them.
      let i = into.length;
      while (i > 0 && (into[i - 1] as Lease).lingerSeq > lease.lingerSeq) i--;
      into.splice(i, 0, lease);
    }
  }
  lease.pool = to;
  to.leaseCount++;
  holdSeats(to, lease);
  if (to.rules !== undefined && to.model === 'concurrent') {
    accountLease(to, lease, withCounters(to, rulesFor(state, to.rules, lease.user, lease.host, lease.app, lease.ip)), undefined);
  }
}
