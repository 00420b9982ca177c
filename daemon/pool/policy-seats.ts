// The seat policy's mechanics in a pool, kept in step with the leases like
// the other indexes: what the rules make of a session (cached on it), the
// seats each max rule counts (Pool.policyHeld), the seats drawn on each
// reservation (Pool.reserveHeld, Pool.reservedIdle), the free seats a given
// session may take, and which queued checkout may be served. The rules
// themselves are in docs/policy.md; apply.ts and seats.ts call these.
import type { Lease, Pool, PoolState, Session, Waiter } from './pool-state.ts';
import { NO_COUNTERS, NO_DRAWS } from './pool-state.ts';
import {
  identityRules,
  policyIdentity,
  poolRules,
  type IdentityRules,
  type MaxBinding,
  type PolicyCounter,
  type PoolIdentityRules,
  type PoolRules,
} from './policy-compile.ts';

/** How a session is named in refusals. */
export function whoText(user: string, host: string): string {
  return `${user} on ${host}`;
}

/** What the pool's rules make of `session` (undefined when no rule applies to the pool). */
export function sessionRules(state: PoolState, session: Session, pool: Pool): PoolIdentityRules | undefined {
  const rules = pool.rules;
  if (rules === undefined) return undefined;
  if (session.policyEpoch === state.policyEpoch) {
    if (session.policyLastPool === pool) return session.policyLastRules;
  } else {
    session.policyCache = undefined;
    session.policyLastPool = undefined;
    session.policyEpoch = state.policyEpoch;
  }
  let cache = session.policyCache;
  if (cache === undefined) {
    cache = new Map();
    session.policyCache = cache;
  }
  let r = cache.get(pool);
  if (r === undefined) {
    r = withCounters(pool, rulesFor(state, rules, session.user, session.host, session.app, session.ip));
    cache.set(pool, r);
  }
  session.policyLastPool = pool;
  session.policyLastRules = r;
  return r;
}

/** The counter of `key` in `pool`, created at 0 the first time it is asked for. */
function counterOf(pool: Pool, key: string): PolicyCounter {
  let c = pool.policyHeld.get(key);
  if (c === undefined) {
    c = { key, held: 0 };
    pool.policyHeld.set(key, c);
  }
  return c;
}

/** `ir` with the pool's counter of each of its max bindings. */
export function withCounters(pool: Pool, ir: IdentityRules): PoolIdentityRules {
  return { ...ir, counters: ir.keys.length === 0 ? NO_COUNTERS : ir.keys.map((k) => counterOf(pool, k)) };
}

/** What `rules` make of an identity (no cache). */
export function rulesFor(state: PoolState, rules: PoolRules, user: string, host: string, app: string, ip: string): IdentityRules {
  const policy = state.policy;
  if (policy === undefined) throw new Error('assert: pool rules without a policy');
  return identityRules(rules, policyIdentity(policy, user, host, app, ip), whoText(user, host));
}

/** The pool's rules under the state's policy, with its ttl bounds (on creation and on every policy-set). */
export function refreshPoolRules(state: PoolState, pool: Pool): void {
  const rules = state.policy === undefined ? undefined : poolRules(state.policy, pool.feature, pool.version);
  pool.rules = rules;
  pool.leaseTtlMsMin = rules?.settings.leaseTtlMsMin ?? 0;
  pool.leaseTtlMsMax = rules?.settings.leaseTtlMsMax ?? Number.POSITIVE_INFINITY;
  pool.policyHeld.clear();
  pool.reserveHeld = rules === undefined || pool.model !== 'concurrent' ? [] : rules.reserves.map(() => 0);
  let idle = 0;
  if (rules !== undefined && pool.model === 'concurrent') for (const r of rules.reserves) idle += r.rule.kind === 'reserve' ? r.rule.count : 0;
  pool.reservedIdle = idle;
}

/** `ms`: the ttl a lease of `pool` gets when the server asks for `ttlMs`, within the policy's bounds. */
export function boundTtlMs(pool: Pool, ttlMs: number): number {
  if (ttlMs < pool.leaseTtlMsMin) return pool.leaseTtlMsMin;
  if (ttlMs > pool.leaseTtlMsMax) return pool.leaseTtlMsMax;
  return ttlMs;
}

function reserveCount(pool: Pool, i: number): number {
  const r = (pool.rules as PoolRules).reserves[i];
  return r !== undefined && r.rule.kind === 'reserve' ? r.rule.count : 0;
}

/** Idle reserved seats of the reservations `ir` may draw on, less those in `blocked`. */
export function ownIdle(pool: Pool, ir: IdentityRules, blocked: ReadonlySet<number> | undefined): number {
  let n = 0;
  for (const i of ir.reserves) if (blocked === undefined || !blocked.has(i)) n += reserveCount(pool, i) - (pool.reserveHeld[i] ?? 0);
  return n;
}

/** Seats of a concurrent pool free for `ir`: free seats less those reserved, idle, for others. */
export function freeFor(pool: Pool, ir: IdentityRules | undefined): number {
  const free = pool.seatsTotal - pool.seatsInUse;
  if (ir === undefined || pool.reservedIdle === 0) return free;
  return free - (pool.reservedIdle - ownIdle(pool, ir, undefined));
}

/** The first max limit that `count` more seats would break (less `released`'s, a lease given up for them), or undefined. */
export function maxBroken(pool: Pool, ir: PoolIdentityRules, count: number, released: Lease | undefined): MaxBinding | undefined {
  const maxes = ir.maxes;
  for (let i = 0; i < maxes.length; i++) {
    const counter = ir.counters[i] as PolicyCounter;
    let held = counter.held;
    if (released !== undefined && released.policyCounters.includes(counter)) held -= released.count;
    if (held + count > (maxes[i] as MaxBinding).limit) return maxes[i];
  }
  return undefined;
}

/** passedOver for rules without counters (the invariant check): the counts looked up by key, nothing created. */
export function passedOverByKeys(pool: Pool, ir: IdentityRules | undefined, count: number): boolean {
  if (ir === undefined) return false;
  if (ir.excluded !== undefined) return true;
  return ir.maxes.some((m) => (pool.policyHeld.get(m.key)?.held ?? 0) + count > m.limit);
}

/** True when the policy passes over `ir` for `count` seats (excluded, or a max limit reached): it neither gets seats nor holds up others. */
export function passedOver(pool: Pool, ir: PoolIdentityRules | undefined, count: number): boolean {
  return ir !== undefined && (ir.excluded !== undefined || maxBroken(pool, ir, count, undefined) !== undefined);
}

/** Counts `lease` (just granted to an identity with rules `ir`) on the max rules and draws its seats on reservations (not those in `blocked`). */
export function accountLease(pool: Pool, lease: Lease, ir: PoolIdentityRules | undefined, blocked: ReadonlySet<number> | undefined): void {
  if (ir === undefined || pool.model !== 'concurrent') return;
  const counters = ir.counters;
  if (counters.length > 0) {
    lease.policyCounters = counters;
    for (let i = 0; i < counters.length; i++) (counters[i] as PolicyCounter).held += lease.count;
  }
  if (ir.reserves.length === 0 || pool.reservedIdle === 0) return;
  let left = lease.count;
  const draws: number[] = [];
  for (const i of ir.reserves) {
    if (left === 0) break;
    if (blocked !== undefined && blocked.has(i)) continue;
    const idle = reserveCount(pool, i) - (pool.reserveHeld[i] ?? 0);
    const k = idle < left ? idle : left;
    if (k <= 0) continue;
    pool.reserveHeld[i] = (pool.reserveHeld[i] ?? 0) + k;
    pool.reservedIdle -= k;
    left -= k;
    draws.push(i, k);
  }
  if (draws.length > 0) lease.draws = draws;
}

/** Undoes accountLease for a lease leaving the pool. */
export function unaccountLease(pool: Pool, lease: Lease): void {
  const counters = lease.policyCounters;
  if (counters.length > 0) {
    for (let i = 0; i < counters.length; i++) (counters[i] as PolicyCounter).held -= lease.count;
    lease.policyCounters = NO_COUNTERS;
  }
  const draws = lease.draws;
  if (draws.length > 0) {
    for (let j = 0; j < draws.length; j += 2) {
      const i = draws[j] as number;
      const k = draws[j + 1] as number;
      pool.reserveHeld[i] = (pool.reserveHeld[i] ?? 0) - k;
      pool.reservedIdle += k;
    }
    lease.draws = NO_DRAWS;
  }
}

/**
 * The policy changed (or a snapshot was decoded): every pool's rules, and
 * every lease's counts, recomputed from scratch in grant order. Reservation
 * draws are kept from `draws` when given (a decoded snapshot's, by lease),
 * so a restored replica draws exactly as the original did.
 */
export function recomputePolicyAccounting(state: PoolState, draws?: ReadonlyMap<Lease, readonly number[]>): void {
  for (const pool of state.pools.values()) refreshPoolRules(state, pool);
  for (const lease of state.leases.values()) {
    lease.policyCounters = NO_COUNTERS;
    lease.draws = NO_DRAWS;
    const pool = lease.pool;
    if (pool.rules === undefined || pool.model !== 'concurrent') continue;
    const ir = withCounters(pool, rulesFor(state, pool.rules, lease.user, lease.host, lease.app, lease.ip));
    const kept = draws?.get(lease);
    if (draws === undefined) {
      accountLease(pool, lease, ir, undefined);
      continue;
    }
    accountLease(pool, lease, { ...ir, reserves: [] }, undefined);
    if (kept !== undefined && kept.length > 0) {
      lease.draws = kept;
      for (let j = 0; j < kept.length; j += 2) {
        const i = kept[j] as number;
        const k = kept[j + 1] as number;
        pool.reserveHeld[i] = (pool.reserveHeld[i] ?? 0) + k;
        pool.reservedIdle -= k;
      }
    }
  }
}

/** Reservations held up by the waiters ahead in a queue scan (see servable). */
export interface QueueScan {
  /** True once a waiter ahead could not be served. */
  blocked: boolean;
  /** The reservations those waiters may draw on: nobody behind them draws on these. */
  readonly blockedReserves: Set<number>;
}

/** The scan of an empty queue: nobody ahead; shared, never written (a checkout of an idle pool allocates none). */
export const CLEAR_SCAN: QueueScan = Object.freeze({ blocked: false, blockedReserves: new Set<number>() }) as QueueScan;

/** A fresh scan from the head of a queue. */
export function newQueueScan(): QueueScan {
  return { blocked: false, blockedReserves: new Set() };
}

/**
 * True when `count` seats can be granted to `ir` now, behind the waiters the
 * scan has passed: seats free for it, and, once a waiter ahead is held up,
 * only from its own idle reservations that no such waiter may draw on — so it
 * never takes seats those ahead of it wait for.
 */
export function servable(pool: Pool, ir: IdentityRules | undefined, count: number, scan: QueueScan): boolean {
  if (freeFor(pool, ir) < count) return false;
  if (!scan.blocked) return true;
  return ir !== undefined && ownIdle(pool, ir, scan.blockedReserves) >= count;
}

/** Records in `scan` a waiter that stays queued. */
export function holdUp(scan: QueueScan, ir: IdentityRules | undefined): void {
  scan.blocked = true;
  if (ir !== undefined) for (const i of ir.reserves) scan.blockedReserves.add(i);
}

/** Where a waiter of `priority` joins the queue: behind every waiter of at least its priority. */
export function queueSlot(queue: readonly Waiter[], priority: number): number {
  if (priority === 0) return queue.length;
  let i = queue.length;
  while (i > 0 && (queue[i - 1] as Waiter).priority < priority) i--;
  return i;
}
