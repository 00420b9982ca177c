// Invariant checks of the pool state, asserted after every command in tests
// (and usable by the simulator): the seat invariant of DESIGN.md, and that
// every index agrees with the facts it indexes. O(state): not for the hot path.
import type { DeadlineHeap, DeadlineItem } from './deadline-heap.ts';
import { poolLeases } from './capacity.ts';
import { waiterSeatsFree, waiterWithinItsKeys } from './seats.ts';
import type { Lease, PoolState, Waiter } from './pool-state.ts';

/** Every broken invariant of `state`, as sentences; empty when all hold. */
export function checkInvariants(state: PoolState): string[] {
  const bad: string[] = [];
  const seen = new Set<Lease>();
  let leasesInPools = 0;
  const queued = new Set<Waiter>();
  for (const pool of state.pools.values()) {
    const name = pool.key;
    if (pool.seatsInUse > pool.seatsTotal) bad.push(`${name} holds ${pool.seatsInUse} seats of ${pool.seatsTotal}`);
    if (pool.seatsTotal > pool.seatsCeiling) bad.push(`${name} has ${pool.seatsTotal} seats in force but a ceiling of ${pool.seatsCeiling}`);
    if (pool.leaseCount > state.limits.leasesPerPoolMax) bad.push(`${name} has more leases than its maximum`);
    if (pool.queue.length > state.limits.queueLengthMax) bad.push(`${name} queue is longer than its maximum`);
    if (pool.users.size > pool.seatsTotal) bad.push(`${name} names ${pool.users.size} users for ${pool.seatsTotal} seats`);
    let inUse = 0;
    const users = new Set<string>();
    let count = 0;
    for (const l of poolLeases(state, pool)) {
      count++;
      leasesInPools++;
      if (seen.has(l)) bad.push(`lease ${l.id} is in two pools`);
      seen.add(l);
      if (l.pool !== pool) bad.push(`lease ${l.id} is in ${name} but names ${l.pool.key}`);
      if (state.leases.get(l.id) !== l) bad.push(`lease ${l.id} of ${name} is not in the lease map`);
      inUse += l.count;
      users.add(l.user);
      if (pool.model === 'authorized-user' && !pool.users.has(l.user)) bad.push(`lease ${l.id} is held by ${l.user}, not a named user`);
      if (l.lingerSeq === 0) {
        const s = state.sessions.get(l.sessionId);
        if (s === undefined || s !== l.session || !s.leases.includes(l)) bad.push(`held lease ${l.id} is not in its session`);
      } else if (!(pool.lingering.get(`${l.user}\n${l.host}`) ?? []).includes(l)) {
        bad.push(`lingering lease ${l.id} is not in its pool's linger list`);
      }
    }
    if (count !== pool.leaseCount) bad.push(`${name} counts ${pool.leaseCount} leases, holds ${count}`);
    const expected = pool.model === 'concurrent' ? inUse : users.size;
    if (pool.seatsInUse !== expected) bad.push(`${name} counts ${pool.seatsInUse} seats in use, its leases hold ${expected}`);
    // Served in order up to the first waiter whose seats are not free: none before it may be servable.
    let servedUpTo = true;
    for (const w of pool.queue) {
      if (queued.has(w)) bad.push(`waiter ${w.requestId} is queued twice`);
      queued.add(w);
      if (w.pool !== pool) bad.push(`waiter ${w.requestId} is in the queue of ${name} but names ${w.pool.key}`);
      if (w.session.waiters.get(w.requestId) !== w) bad.push(`waiter ${w.requestId} is not in its session`);
      if (state.sessions.get(w.session.id) !== w.session) bad.push(`waiter ${w.requestId} belongs to a closed session`);
      if (w.count > pool.seatsCeiling) bad.push(`waiter ${w.requestId} asks ${w.count} seats, more than ${name} could ever have (${pool.seatsCeiling})`);
      if (servedUpTo && !waiterSeatsFree(state, pool, w)) servedUpTo = false;
      if (servedUpTo && waiterWithinItsKeys(state, pool, w)) bad.push(`${name} has free seats for waiter ${w.requestId} of its queue, and none before it holds it back`);
    }
  }
  for (const id of state.retiredLicenses.keys()) if (state.licenses.has(id)) bad.push(`license ${id} is both installed and retired`);
  if (state.retiredLicenses.size > state.limits.licensesRetiredMax) bad.push('more retired licenses than the maximum');
  if (leasesInPools !== state.leases.size) bad.push(`${state.leases.size} leases, ${leasesInPools} in pools`);
  if (state.sessions.size > state.limits.sessionsMax) bad.push('more sessions than the maximum');
  let sessionWaiters = 0;
  for (const s of state.sessions.values()) {
    sessionWaiters += s.waiters.size;
    for (const l of s.leases) if (l.sessionId !== s.id || l.lingerSeq !== 0) bad.push(`session ${s.id} lists lease ${l.id} it does not hold`);
  }
  if (sessionWaiters !== queued.size) bad.push(`${sessionWaiters} waiters in sessions, ${queued.size} in queues`);
  heapBad(bad, 'lease', state.leaseDeadlines, state.leases.size);
  heapBad(bad, 'waiter', state.waiterDeadlines, queued.size);
  heapBad(bad, 'session', state.sessionDeadlines, state.sessions.size);
  for (const c of state.remembered.values()) {
    if (c.requestIds.length > state.limits.requestsPerClientRememberedMax) bad.push('a client has more remembered requests than the maximum');
  }
  if (state.remembered.size > state.limits.clientsRememberedMax) bad.push('more remembered clients than the maximum');
  return bad;
}

function heapBad<T extends DeadlineItem>(bad: string[], name: string, heap: DeadlineHeap<T>, size: number): void {
  if (heap.size !== size) bad.push(`${name} deadline index has ${heap.size} items, expected ${size}`);
  bad.push(...heap.check(name));
}
