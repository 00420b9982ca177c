// The in-memory state of the seat-pool state machine. Only `apply` changes it;
// the daemon reads it through the queries in queries.ts and persists it
// through snapshot.ts. Every Map here iterates in insertion order, which is a
// function of the applied commands alone, so replicas stay byte-identical.
import type { LicenseModel, LicensePayload } from '../../protocol/license-payload.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { LeaseTable } from './lease-table.ts';
import { POOL_LIMITS_DEFAULT, type PoolLimits } from './limits.ts';
import type { CompiledPolicy, PolicyCounter, PoolIdentityRules, PoolRules } from './policy-compile.ts';
import type { PoolReply } from './results.ts';

/**
 * Where an installed key came from when the cluster got it from a key center:
 * by online activation, or offline as a key file answering a request file.
 * The key's payload names its authorization code and order; the key center's
 * address is not signed into it, so the install command carries it.
 */
export interface LicenseProvenance {
  /** The key center's base URL, as the cluster or the person reached it. */
  readonly keyCenterUrl: string;
  readonly via: 'online' | 'offline';
  /**
   * The admin request that installed it (POST /licenses/activate's
   * `requestId`), kept so a retry of that request after a lost answer is
   * answered as the first was instead of ALREADY_ACTIVATED.
   */
  readonly requestId?: string;
}

/** An installed license key. */
export interface License {
  readonly payload: LicensePayload;
  /** `ms`: `at` of its install command. */
  readonly installedAt: number;
  /** Keys of the pools it adds seats to. */
  readonly poolKeys: readonly string[];
  /** Absent: imported as a bare key, or from a license file. */
  readonly provenance?: LicenseProvenance;
}

/**
 * A license that may not be installed again as it was: superseded by a key
 * that names it (refused for good, SUPERSEDED), or removed by an admin (a
 * config's licenseFiles do not bring it back; an admin's import does).
 */
export interface RetiredLicense {
  readonly reason: 'superseded' | 'removed';
  /** The licenseId of the key that superseded it; '' when removed. */
  readonly by: string;
  /** `ms`: `at` of the command that retired it. */
  readonly at: number;
}

/** A client session. */
export interface Session {
  readonly id: string;
  readonly clientId: string;
  readonly user: string;
  readonly host: string;
  readonly app: string;
  /** SHA-256 of the session secret, base64url; '' when none (such a session cannot be resumed). */
  readonly secretSha256: string;
  /** The client's IP address as the server saw it ('' when unknown). */
  readonly ip: string;
  readonly openedAt: number;
  /** `ms`: the session closes itself then unless renewed. */
  deadlineMs: number;
  readonly seq: number;
  heapStamp: number;
  heapKeyMs: number;
  /** Its held leases (not lingering ones), oldest first. Change it with push and removeHeldLease. */
  readonly leases: Lease[];
  /**
   * Its queued checkouts by requestId, oldest first: NO_WAITERS while none (most
   * sessions), so a checkout reads one shared, cached Map instead of a Map per
   * session. Change it only with addWaiter and deleteWaiter.
   */
  waiters: ReadonlyMap<string, Waiter>;
  /**
   * Cache of `PoolState.remembered.get(clientId)`, valid unless undefined or
   * forgotten (see sessionRequests): saves a Map lookup, two cache misses, per
   * checkout and checkin. Not state: snapshots neither write nor read it.
   */
  requests: ClientRequests | undefined;
  /**
   * Cache of what the policy's rules make of this session, per pool; valid
   * while policyEpoch === PoolState.policyEpoch. Not state: snapshots neither
   * write nor read it.
   */
  policyCache: Map<Pool, PoolIdentityRules> | undefined;
  policyEpoch: number;
  /** The last pool asked of the cache and its answer (most sessions use one pool): saves the Map lookup. */
  policyLastPool: Pool | undefined;
  policyLastRules: PoolIdentityRules | undefined;
}

/** A lease: seats held by a session, or lingering after its checkin. */
export interface Lease {
  readonly id: string;
  /** Grant order; larger is newer. */
  readonly seq: number;
  /** Changes only when a renewal key carries the lease over to its pool (carry-over.ts). */
  pool: Pool;
  readonly sessionId: string;
  /** The holding session while held; undefined once lingering. */
  session: Session | undefined;
  readonly clientId: string;
  readonly user: string;
  readonly host: string;
  /** The holding session's app and IP address, for policy rules that name them. */
  readonly app: string;
  readonly ip: string;
  readonly count: number;
  readonly checkedOutAt: number;
  readonly fencingToken: number;
  /** `ms`: expiry of a held lease, or end of a lingering one. */
  deadlineMs: number;
  heapStamp: number;
  heapKeyMs: number;
  /** 0 while held; once checked in and lingering, the order it began to linger (> 0). */
  lingerSeq: number;
  /** True while in PoolState.leases; owned by LeaseTable. */
  inTable: boolean;
  /** The counters of Pool.policyHeld its seats count on (max rules); NO_COUNTERS when none. */
  policyCounters: readonly PolicyCounter[];
  /** Seats it draws on reservations: pairs of (index in PoolRules.reserves, seats); NO_DRAWS when none. */
  draws: readonly number[];
  /** Set when the seat is borrowed (taken offline): then it has no session and needs no renewal until its deadline. */
  readonly borrow: Borrow | undefined;
}

/** What a borrowed lease carries beside a lease's fields. */
export interface Borrow {
  /** The borrowing machine's fingerprint, as its client stated it (the borrow token is bound to it). */
  readonly fingerprint: string;
  /** An admin (or a policy change) revoked it while its client was offline: the seat comes back when the borrow ends or the client opens a session. */
  revoked: boolean;
}

/** The cluster's borrow-token signing key (Ed25519, base64url), created by the first leader that needs it. */
export interface BorrowKey {
  readonly publicKey: string;
  readonly secretKey: string;
}

/** The policy counters of a lease that counts on no max rule; never written. */
export const NO_COUNTERS: readonly PolicyCounter[] = Object.freeze([]);
/** The draws of a lease on no reservation; never written. */
export const NO_DRAWS: readonly number[] = Object.freeze([]);

/** A queued checkout. */
export interface Waiter {
  readonly requestId: string;
  /** `requestKey` of its checkout: a retry of the requestId must repeat it. */
  readonly requestKey: string;
  /**
   * Its checkout's `licenseIds`: granted only within those keys' seats;
   * undefined: every key's. A key that supersedes one of them takes its place.
   */
  licenseIds: readonly string[] | undefined;
  readonly session: Session;
  /** Changes only when a renewal key carries the queue over to its pool (carry-over.ts). */
  pool: Pool;
  readonly count: number;
  readonly leaseTtlMs: number;
  /** Queue priority level (0 without priority rules); the queue is ordered by it, then FIFO. */
  priority: number;
  readonly enqueuedAt: number;
  /** `ms`: the wait ends then unless granted. */
  deadlineMs: number;
  readonly seq: number;
  heapStamp: number;
  heapKeyMs: number;
}

/** Seats of one feature at one version, from every key that grants them. */
export interface Pool {
  /** `${feature}@${version}`. */
  readonly key: string;
  readonly feature: string;
  readonly version: string;
  /** The version's dot-separated integers, for ordering. */
  readonly versionParts: readonly number[];
  readonly model: LicenseModel;
  /** Installed licenses granting it, in install order. */
  readonly licenseIds: string[];
  /** Seats of the keys in force now (notBefore ≤ now < expiresAt). */
  seatsTotal: number;
  /**
   * Seats of its keys not yet ended (in force now or from a later notBefore):
   * no checkout of more seats than this could ever be granted.
   * Invariant: every queued checkout asks at most this many; seatsTotal ≤ it.
   */
  seatsCeiling: number;
  /**
   * Seats held: concurrent, the counts of its leases (held and lingering);
   * authorized-user, the named users holding at least one lease.
   * Invariant: seatsInUse ≤ seatsTotal after every command.
   */
  seatsInUse: number;
  /** `ms`: linger of a checked-in seat: the keys' longest, capped by lingerMsMax. */
  lingerMs: number;
  /** `ms`: admin's cap on linger (pool-configure). */
  lingerMsMax: number;
  /** Hosts from which one named user may hold the seat at once: the keys' largest. */
  hostsPerUserMax: number;
  /** Leases, held and lingering, in this pool (they are listed, oldest grant first, in PoolState.leases). */
  leaseCount: number;
  /** Lingering leases by `${user}\n${host}`, oldest linger first. */
  readonly lingering: Map<string, Lease[]>;
  /** FIFO of queued checkouts; the head is index 0. Concurrent pools only. */
  readonly queue: Waiter[];
  /** Named users (authorized-user model), in assignment order. Invariant: size ≤ seatsTotal. */
  readonly users: Set<string>;
  /** Authorized-user: per named user holding seats, leases per host. */
  readonly userHosts: Map<string, Map<string, number>>;
  /** The policy's rules for this pool; undefined when none apply (every policy check is then skipped). */
  rules: PoolRules | undefined;
  /** The seats counted per max-rule key (see maxBindings), created as sessions first need them. */
  readonly policyHeld: Map<string, PolicyCounter>;
  /** Seats drawn on each reservation of `rules.reserves`. Invariant: reserveHeld[i] ≤ its count. */
  reserveHeld: number[];
  /** Σ over reservations of (count − reserveHeld): seats held back for their holders. */
  reservedIdle: number;
  /** `ms`: bounds of the ttl of its leases, from the policy (0 and Infinity without one). */
  leaseTtlMsMin: number;
  leaseTtlMsMax: number;
  /** `ms`: longest borrow its keys in force allow; 0 when none allows borrowing. */
  borrowMsMax: number;
  /** Seats of its leases that are borrowed (counted in seatsInUse too). */
  seatsBorrowed: number;
}

/**
 * A client's latest request results: a ring of requestsPerClientRememberedMax
 * slots, so remembering costs no allocation and forgetting the oldest is free.
 */
export interface ClientRequests {
  readonly clientId: string;
  readonly requestIds: string[];
  /**
   * `requestHash` of each slot's request id. Every checkout and checkin scans
   * the ring; comparing these small integers (one cache line) instead of the
   * stored strings (each a likely cache miss) made the pool bench's mix 26%
   * faster at 16 slots (183k → 230k commands per CPU-second, medians).
   * Invariant: requestHashes[i] === requestHash(requestIds[i]).
   */
  readonly requestHashes: number[];
  /**
   * `requestKey` of the request each slot answered: a retry must be the same
   * request.
   */
  readonly requestKeys: string[];
  readonly replies: PoolReply[];
  /** Slot the next request is written to. */
  next: number;
  /** Set when the client is forgotten: a holder of this object must look it up again. */
  forgotten: boolean;
}

/** The waiters of every session that has none; never written. */
export const NO_WAITERS: ReadonlyMap<string, Waiter> = new Map();

/** Queues `w` in its session's waiters (after the others). */
export function addWaiter(w: Waiter): void {
  const s = w.session;
  if (s.waiters === NO_WAITERS) s.waiters = new Map([[w.requestId, w]]);
  else (s.waiters as Map<string, Waiter>).set(w.requestId, w);
}

/** Takes `w` out of its session's waiters. */
export function deleteWaiter(w: Waiter): void {
  const s = w.session;
  if (s.waiters.size === 1) s.waiters = NO_WAITERS;
  else (s.waiters as Map<string, Waiter>).delete(w.requestId);
}

/** The whole state. Create with `createPoolState`, change only with `apply`. */
export interface PoolState {
  readonly limits: PoolLimits;
  /** Log index of the last applied command; 0 before any. */
  appliedIndex: number;
  /** `ms`: the largest `at` applied so far. */
  nowMs: number;
  /** Next unique sequence number (leases, sessions, waiters, lingers). */
  nextSeq: number;
  readonly licenses: Map<string, License>;
  /**
   * Licenses removed or superseded, in the order they were retired.
   * Invariant: no id is both here and in `licenses`; size ≤ limits.licensesRetiredMax.
   */
  readonly retiredLicenses: Map<string, RetiredLicense>;
  readonly pools: Map<string, Pool>;
  /** Pools of each feature, by ascending version. */
  readonly poolsByFeature: Map<string, Pool[]>;
  readonly sessions: Map<string, Session>;
  /** Every lease, held and lingering, by id, in grant order. */
  readonly leases: LeaseTable<Lease>;
  readonly leaseDeadlines: DeadlineHeap<Lease>;
  readonly waiterDeadlines: DeadlineHeap<Waiter>;
  readonly sessionDeadlines: DeadlineHeap<Session>;
  /** `ms` since the epoch: the date of the last applied command (its dateMs, else its time); licenses are in force by it. May move back. */
  dateMs: number;
  /** `ms`: the next notBefore or expiresAt of an installed key after dateMs; Infinity when none. */
  licenseTransitionAtMs: number;
  /**
   * `ms`: the latest notBefore or expiresAt of an installed key at or before
   * dateMs; -Infinity when none. Invariant: which keys are in force changes
   * only when dateMs leaves [licenseWindowStartMs, licenseTransitionAtMs).
   */
  licenseWindowStartMs: number;
  /** Results of each client's latest requests, in order of each client's first remembered request. */
  readonly remembered: Map<string, ClientRequests>;
  /** The seat policy in force; undefined until the first policy-set. */
  policy: CompiledPolicy | undefined;
  /** +1 on every policy-set: invalidates the sessions' policy caches. Not in snapshots. */
  policyEpoch: number;
  /** The key borrow tokens are signed with; undefined until a leader sets it (borrow-key-set). */
  borrowKey: BorrowKey | undefined;
  /** Borrowed leases revoked while their clients were offline (their seats still held). */
  revokedBorrows: number;
}

/** A fresh, empty state. `limits` override POOL_LIMITS_DEFAULT; every replica must use the same. */
export function createPoolState(limits: Partial<PoolLimits> = {}): PoolState {
  return {
    limits: { ...POOL_LIMITS_DEFAULT, ...limits },
    appliedIndex: 0,
    nowMs: 0,
    nextSeq: 1,
    licenses: new Map(),
    retiredLicenses: new Map(),
    pools: new Map(),
    poolsByFeature: new Map(),
    sessions: new Map(),
    leases: new LeaseTable(),
    leaseDeadlines: new DeadlineHeap(),
    waiterDeadlines: new DeadlineHeap(),
    sessionDeadlines: new DeadlineHeap(),
    dateMs: 0,
    licenseTransitionAtMs: Number.POSITIVE_INFINITY,
    licenseWindowStartMs: Number.NEGATIVE_INFINITY,
    remembered: new Map(),
    policy: undefined,
    policyEpoch: 1,
    borrowKey: undefined,
    revokedBorrows: 0,
  };
}

/** The key of a pool in `PoolState.pools`. */
export function poolKey(feature: string, version: string): string {
  return `${feature}@${version}`;
}
