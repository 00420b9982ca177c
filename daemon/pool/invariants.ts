// Invariant checks of the pool state, asserted after every command in tests
// (and usable by the simulator): the seat invariant of DESIGN.md, and that
// every index agrees with the facts it indexes. O(state): not for the hot path.
import type { DeadlineHeap, DeadlineItem } from './deadline-heap.ts';
import { poolLeases } from './capacity.ts';
import { waiterWithinItsKeys } from './seats.ts';
import type { Lease, PoolState, Waiter } from './pool-state.ts';
import { holdUp, newQueueScan, passedOverByKeys, rulesFor, servable } from './policy-seats.ts';

/** Every broken invariant of `state`, as sentences; empty when all hold. */
export function checkInvariants(state: PoolState): string[] {
  const bad: string[] = [];
  const seen = new Set<Lease>();
  let revokedBorrows = 0;
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
    let borrowed = 0;
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
      if (l.borrow !== undefined) {
        borrowed += l.count;
        if (l.borrow.revoked) revokedBorrows++;
        if (l.session !== undefined || l.lingerSeq !== 0 || pool.model !== 'concurrent') bad.push(`borrowed lease ${l.id} has a session, lingers or is in an authorized-user pool`);
      } else if (l.lingerSeq === 0) {
        const s = state.sessions.get(l.sessionId);
        if (s === undefined || s !== l.session || !s.leases.includes(l)) bad.push(`held lease ${l.id} is not in its session`);
      } else if (!(pool.lingering.get(`${l.user}\n${l.host}`) ?? []).includes(l)) {
        bad.push(`lingering lease ${l.id} is not in its pool's linger list`);
      }
    }
    if (count !== pool.leaseCount) bad.push(`${name} counts ${pool.leaseCount} leases, holds ${count}`);
    if (borrowed !== pool.seatsBorrowed) bad.push(`${name} counts ${pool.seatsBorrowed} seats borrowed, its leases ${borrowed}`);
    const expected = pool.model === 'concurrent' ? inUse : users.size;
    if (pool.seatsInUse !== expected) bad.push(`${name} counts ${pool.seatsInUse} seats in use, its leases hold ${expected}`);
    // The queue as serveQueue would scan it: no waiter it would serve may be left waiting. One
    // whose seats are not free (for it) holds up those behind it; one the policy or its own keys
    // pass over keeps its place and holds up no one.
    const scan = newQueueScan();
    for (const [i, w] of pool.queue.entries()) {
      if (queued.has(w)) bad.push(`waiter ${w.requestId} is queued twice`);
      queued.add(w);
      if (w.pool !== pool) bad.push(`waiter ${w.requestId} is in the queue of ${name} but names ${w.pool.key}`);
      if (w.session.waiters.get(w.requestId) !== w) bad.push(`waiter ${w.requestId} is not in its session`);
      if (state.sessions.get(w.session.id) !== w.session) bad.push(`waiter ${w.requestId} belongs to a closed session`);
      if (w.count > pool.seatsCeiling) bad.push(`waiter ${w.requestId} asks ${w.count} seats, more than ${name} could ever have (${pool.seatsCeiling})`);
      const prev = pool.queue[i - 1];
      if (prev !== undefined && prev.priority < w.priority) bad.push(`${name} queues waiter ${w.requestId} (priority ${w.priority}) behind a lower priority`);
      const rules = pool.rules === undefined ? undefined : rulesFor(state, pool.rules, w.session.user, w.session.host, w.session.app, w.session.ip);
      if (passedOverByKeys(pool, rules, w.count)) continue;
      if (pool.leaseCount >= state.limits.leasesPerPoolMax || !servable(pool, rules, w.count, scan)) {
        holdUp(scan, rules);
        continue;
      }
      if (waiterWithinItsKeys(state, pool, w)) bad.push(`${name} has free seats for waiter ${w.requestId} at position ${i + 1}, and none before it holds it back`);
    }
    bad.push(...policyCountsBad(state, pool));
  }
  for (const id of state.retiredLicenses.keys()) if (state.licenses.has(id)) bad.push(`license ${id} is both installed and retired`);
  if (state.retiredLicenses.size > state.limits.licensesRetiredMax) bad.push('more retired licenses than the maximum');
  if (revokedBorrows !== state.revokedBorrows) bad.push(`${state.revokedBorrows} revoked borrows counted, ${revokedBorrows} held`);
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

/** The pool's policy counts agree with its leases: max counts with their keys, reservation draws with their sums. */
function policyCountsBad(state: PoolState, pool: PoolState['pools'] extends Map<string, infer P> ? P : never): string[] {
  const bad: string[] = [];
  const name = pool.key;
  const held = new Map<string, number>();
  const drawn = pool.reserveHeld.map(() => 0);
  for (const l of poolLeases(state, pool)) {
    for (const c of l.policyCounters) {
      held.set(c.key, (held.get(c.key) ?? 0) + l.count);
      if (pool.policyHeld.get(c.key) !== c) bad.push(`lease ${l.id} counts on a counter of ${c.key} that is not ${name}'s`);
    }
    for (let j = 0; j < l.draws.length; j += 2) drawn[l.draws[j] as number] = (drawn[l.draws[j] as number] ?? 0) + (l.draws[j + 1] as number);
    if (pool.rules !== undefined && pool.model === 'concurrent') {
      const keys = rulesFor(state, pool.rules, l.user, l.host, l.app, l.ip).keys;
      const mine = l.policyCounters.map((c) => c.key);
      if (keys.join('\t') !== mine.join('\t')) bad.push(`lease ${l.id} counts on max keys ${JSON.stringify(mine)}, its holder on ${JSON.stringify(keys)}`);
    }
  }
  const counted = [...pool.policyHeld.values()].filter((c) => c.held !== 0);
  if (held.size !== counted.length || counted.some((c) => held.get(c.key) !== c.held)) {
    bad.push(`${name} max counts ${JSON.stringify(counted)} disagree with its leases ${JSON.stringify([...held])}`);
  }
  let idle = 0;
  pool.reserveHeld.forEach((n, i) => {
    const r = pool.rules?.reserves[i]?.rule;
    const count = r?.kind === 'reserve' ? r.count : 0;
    if (n !== drawn[i]) bad.push(`${name} reservation ${i} counts ${n} seats drawn, its leases ${drawn[i]}`);
    if (n > count || n < 0) bad.push(`${name} reservation ${i} has ${n} of ${count} seats drawn`);
    idle += count - n;
  });
  if (idle !== pool.reservedIdle) bad.push(`${name} counts ${pool.reservedIdle} idle reserved seats, its reservations ${idle}`);
  return bad;
}

function heapBad<T extends DeadlineItem>(bad: string[], name: string, heap: DeadlineHeap<T>, size: number): void {
  if (heap.size !== size) bad.push(`${name} deadline index has ${heap.size} items, expected ${size}`);
  bad.push(...heap.check(name));
}
