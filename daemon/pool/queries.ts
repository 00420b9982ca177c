// Read-model queries for the admin API and the daemon's reaper: pure functions
// over the state, never changing it. Lists come in a stable order.
import type { LicenseModel, LicensePayload } from '../../protocol/license-payload.ts';
import type { Policy, PolicyFormat } from '../../protocol/policy.ts';
import { apply } from './apply.ts';
import { compilePolicy } from './policy-compile.ts';
import { policyViolations } from './policy-violations.ts';
import type { Lease, LicenseProvenance, Pool, PoolState } from './pool-state.ts';
import type { PoolReply } from './results.ts';
import { recall } from './request-memory.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';

/** One pool, as GET /pools shows it. */
export interface PoolView {
  readonly feature: string;
  readonly version: string;
  readonly model: LicenseModel;
  readonly seatsTotal: number;
  readonly seatsInUse: number;
  /** Seats not in use but held back for reservations of the seat policy (not counted in seatsInUse). */
  readonly seatsReservedIdle: number;
  /** Seats borrowed (taken offline): counted in seatsInUse too. */
  readonly seatsBorrowed: number;
  /** Seats checked in and lingering for their last user: counted in seatsInUse too. */
  readonly seatsLingering: number;
  readonly queued: number;
  /** `ms`: linger of a checked-in seat. */
  readonly lingerMs: number;
  /** Authorized-user model: the named users; empty otherwise. */
  readonly users: readonly string[];
}

/** One lease, as GET /leases shows it. */
export interface LeaseView {
  readonly leaseId: string;
  readonly feature: string;
  readonly version: string;
  readonly count: number;
  readonly user: string;
  readonly host: string;
  readonly clientId: string;
  readonly sessionId: string;
  /** `ms` since the epoch. */
  readonly checkedOutAt: number;
  /** `ms` since the epoch: expiry of a held lease, end of a lingering one. */
  readonly expiresAt: number;
  /** Checked in, held for its last user until expiresAt. */
  readonly lingering: boolean;
  /** Borrowed: taken offline until expiresAt, needing no renewal. */
  readonly borrowed: boolean;
  /** Borrowed and revoked while its client was offline: the seat comes back at expiresAt or when the client next opens a session. */
  readonly borrowRevoked: boolean;
  readonly fencingToken: number;
}

/** One installed license. */
export interface LicenseView {
  readonly licenseId: string;
  readonly payload: LicensePayload;
  readonly installedAt: number;
  /** 'pending' before notBefore, 'active', 'expired' after expiresAt. */
  readonly status: 'pending' | 'active' | 'expired';
  readonly features: readonly string[];
  /** The key center it came from; absent for a bare key or a license file. */
  readonly provenance?: LicenseProvenance;
}

/** One license removed by an admin or superseded by a newer key, as GET /licenses/retired shows it. */
export interface RetiredLicenseView {
  readonly licenseId: string;
  /** 'superseded': refused for good (SUPERSEDED); 'removed': an admin's import brings it back, a license file does not. */
  readonly reason: 'superseded' | 'removed';
  /** The licenseId of the key that superseded it; absent when removed. */
  readonly supersededBy?: string;
  /** `ms` since the epoch when it was retired. */
  readonly retiredAt: number;
}

/** One open session. */
export interface SessionView {
  readonly sessionId: string;
  readonly clientId: string;
  readonly user: string;
  readonly host: string;
  readonly app: string;
  readonly openedAt: number;
  readonly expiresAt: number;
  readonly leaseCount: number;
  readonly queuedCount: number;
}

/** Every pool, by feature then ascending version. */
export function listPools(state: PoolState): PoolView[] {
  const out: PoolView[] = [];
  const features = [...state.poolsByFeature.keys()].sort();
  for (const f of features) {
    for (const p of state.poolsByFeature.get(f) ?? []) {
      out.push({
        feature: p.feature,
        version: p.version,
        model: p.model,
        seatsTotal: p.seatsTotal,
        seatsInUse: p.seatsInUse,
        seatsReservedIdle: reservedIdleSeats(p),
        seatsBorrowed: p.seatsBorrowed,
        seatsLingering: lingeringSeats(p),
        queued: p.queue.length,
        lingerMs: p.lingerMs,
        users: [...p.users],
      });
    }
  }
  return out;
}

/** Seats of `pool`'s lingering leases. O(lingering leases of the pool). */
export function lingeringSeats(pool: Pool): number {
  let seats = 0;
  for (const list of pool.lingering.values()) for (const l of list) seats += l.count;
  return seats;
}

/** Seats of `pool` not in use and held back for reservations: at most its free seats. */
export function reservedIdleSeats(pool: Pool): number {
  const free = pool.seatsTotal - pool.seatsInUse;
  if (pool.reservedIdle <= 0 || free <= 0) return 0;
  return pool.reservedIdle < free ? pool.reservedIdle : free;
}

/** Every lease (held and lingering), oldest grant first; only `feature`'s when given. */
export function listLeases(state: PoolState, feature?: string): LeaseView[] {
  const out: LeaseView[] = [];
  for (const l of state.leases.values()) {
    if (feature !== undefined && l.pool.feature !== feature) continue;
    out.push(leaseView(l));
  }
  return out;
}

/** The leases `sessionId` holds, oldest first; [] for an unknown session (a resumed `hello`, `status`). */
export function listSessionLeases(state: PoolState, sessionId: string): LeaseView[] {
  const s = state.sessions.get(sessionId);
  if (s === undefined) return [];
  const out: LeaseView[] = [];
  for (const l of s.leases) out.push(leaseView(l));
  return out;
}

function leaseView(l: Lease): LeaseView {
  return {
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
    borrowed: l.borrow !== undefined,
    borrowRevoked: l.borrow?.revoked === true,
    fencingToken: l.fencingToken,
  };
}

/** Every installed license, in install order. */
export function listLicenses(state: PoolState): LicenseView[] {
  const out: LicenseView[] = [];
  const now = state.dateMs;
  for (const l of state.licenses.values()) {
    const p = l.payload;
    const status = now < p.notBefore ? 'pending' : p.expiresAt !== undefined && now >= p.expiresAt ? 'expired' : 'active';
    out.push({
      licenseId: p.licenseId,
      payload: p,
      installedAt: l.installedAt,
      status,
      features: [...new Set(l.poolKeys.map((k) => state.pools.get(k)?.feature ?? k))],
      ...(l.provenance === undefined ? {} : { provenance: l.provenance }),
    });
  }
  return out;
}

/** Every retired license, in the order they were retired. */
export function listRetiredLicenses(state: PoolState): RetiredLicenseView[] {
  const out: RetiredLicenseView[] = [];
  for (const [licenseId, r] of state.retiredLicenses) {
    out.push({ licenseId, reason: r.reason, ...(r.reason === 'superseded' ? { supersededBy: r.by } : {}), retiredAt: r.at });
  }
  return out;
}

/** Why `licenseId` may not be installed again as it is (see RetiredLicenseView), or undefined when it is not retired. */
export function retiredLicense(state: PoolState, licenseId: string): RetiredLicenseView | undefined {
  const r = state.retiredLicenses.get(licenseId);
  if (r === undefined) return undefined;
  return { licenseId, reason: r.reason, ...(r.reason === 'superseded' ? { supersededBy: r.by } : {}), retiredAt: r.at };
}

/** Every open session, in opening order. */
export function listSessions(state: PoolState): SessionView[] {
  const out: SessionView[] = [];
  for (const s of state.sessions.values()) {
    out.push({
      sessionId: s.id,
      clientId: s.clientId,
      user: s.user,
      host: s.host,
      app: s.app,
      openedAt: s.openedAt,
      expiresAt: s.deadlineMs,
      leaseCount: s.leases.length,
      queuedCount: s.waiters.size,
    });
  }
  return out;
}

/**
 * `ms` of cluster time (`at`) of the earliest pending deadline: a lease
 * expiry, a linger end, a queue wait's end, a session expiry, or the instant
 * the date reaches a key's notBefore or expiresAt (that far ahead of nowMs
 * as it is of dateMs). Infinity when nothing is pending. The reaper proposes
 * `expire` with `at` ≥ this.
 */
export function nextDeadlineMs(state: PoolState): number {
  let t = state.licenseTransitionAtMs === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : state.nowMs + (state.licenseTransitionAtMs - state.dateMs);
  const l = state.leaseDeadlines.peek();
  if (l !== undefined && l.deadlineMs < t) t = l.deadlineMs;
  const w = state.waiterDeadlines.peek();
  if (w !== undefined && w.deadlineMs < t) t = w.deadlineMs;
  const s = state.sessionDeadlines.peek();
  if (s !== undefined && s.deadlineMs < t) t = s.deadlineMs;
  return t;
}

/** Queue position (1 = head) of a session's queued checkout, or 0 when it is not queued. */
export function queuePosition(state: PoolState, sessionId: string, requestId: string): number {
  const w = state.sessions.get(sessionId)?.waiters.get(requestId);
  return w === undefined ? 0 : w.pool.queue.indexOf(w) + 1;
}

/** The open session `sessionId` (who it is and when it ends), or undefined. */
export function findSession(state: PoolState, sessionId: string): SessionOwner | undefined {
  const s = state.sessions.get(sessionId);
  return s === undefined ? undefined : { clientId: s.clientId, user: s.user, expiresAt: s.deadlineMs, secretSha256: s.secretSha256 };
}

/** What a node checks before it resumes a session: who opened it, and the hash of its secret. */
export interface SessionOwner {
  readonly clientId: string;
  readonly user: string;
  /** `ms` since the epoch. */
  readonly expiresAt: number;
  /** SHA-256 of the session secret, base64url; '' when the session has none (it cannot be resumed). */
  readonly secretSha256: string;
}

/** True when no lease (held or lingering) and no session exists: a new leader then needs no grace period. */
export function isIdle(state: PoolState): boolean {
  return state.leases.size === 0 && state.sessions.size === 0;
}

/** True when the license `licenseId` is installed (whatever its status). */
export function hasLicense(state: PoolState, licenseId: string): boolean {
  return state.licenses.has(licenseId);
}

/**
 * The answer the pool remembers for (clientId, requestId): what a retry of
 * that request, whose `requestKey` is `key`, would be answered now
 * (REQUEST_ID_REUSED when the requestId answered another request), or
 * undefined when it remembers none (never applied here, or forgotten beyond
 * the limits). For a node that may
 * refuse a request before proposing it, so that a retry of an answered
 * request still gets its first answer.
 */
export function rememberedReply(state: PoolState, clientId: string, requestId: string, key: string): PoolReply | undefined {
  return recall(state, clientId, requestId, key);
}

/** The policy in force, as GET /policy shows it. */
export interface PolicyView {
  /** 0 before any policy was set. */
  readonly version: number;
  readonly format: PolicyFormat;
  /** The source text it was set from ('' before any). */
  readonly text: string;
  readonly policy: Policy;
  /** `ms` since the epoch it was set (0 before any). */
  readonly setAt: number;
}

/** The policy in force (version 0, empty, before any was set). */
export function policyView(state: PoolState): PolicyView {
  const p = state.policy;
  if (p === undefined) return { version: 0, format: 'floe', text: '', policy: { caseSensitive: false, groups: [], hostGroups: [], rules: [], features: [] }, setAt: 0 };
  return { version: p.version, format: p.format, text: p.text, policy: p.source, setAt: p.setAt };
}

/** A lease a policy would refuse. */
export interface PolicyViolationView {
  readonly leaseId: string;
  readonly feature: string;
  readonly version: string;
  readonly user: string;
  readonly host: string;
  readonly lingering: boolean;
  readonly code: 'POLICY_EXCLUDED' | 'POLICY_MAX';
  /** Names the rule. */
  readonly message: string;
}

/** The current leases `policy` would refuse if it were set now (a dry run: nothing changes). */
export function policyDryRun(state: PoolState, policy: Policy, format: PolicyFormat, text: string): PolicyViolationView[] {
  const compiled = compilePolicy(policy, (state.policy?.version ?? 0) + 1, format, text, state.nowMs);
  return policyViolations(state, compiled).map((v) => ({
    leaseId: v.lease.id,
    feature: v.lease.pool.feature,
    version: v.lease.pool.version,
    user: v.lease.user,
    host: v.lease.host,
    lingering: v.lease.lingerSeq > 0,
    code: v.code,
    message: v.message,
  }));
}

/** Who asks, for explainCheckout. */
export interface ExplainQuery {
  readonly feature: string;
  readonly version?: string;
  readonly user: string;
  readonly host: string;
  readonly app: string;
  /** '' when unknown. */
  readonly ip: string;
  readonly count: number;
}

/** What a checkout would get now, and the rules that decide it. */
export interface CheckoutExplanation {
  readonly decision: 'granted' | 'queued' | 'refused';
  /** The refusal's code ('' when granted or queued). */
  readonly code: string;
  readonly message: string;
  /** The deciding rules: the one a refusal names; the reservations a grant draws on and the max limits it counts on. */
  readonly rules: readonly string[];
  /** Version of the pool that would serve it or queue it ('' when refused). */
  readonly version: string;
  /** Place in the queue, had it asked to wait (0 when not queued). */
  readonly queuePosition: number;
  readonly policyVersion: number;
}

const EXPLAIN_ID = 'explain-0000-probe';

/**
 * What a checkout of `q` would get now (with wait: queued instead of
 * NO_SEATS), decided by the pool's own rules on a copy of the state:
 * O(state), for an admin's question, never on a client's path.
 */
export function explainCheckout(state: PoolState, q: ExplainQuery): CheckoutExplanation {
  const copy = decodeSnapshot(encodeSnapshot(state));
  let index = copy.appliedIndex;
  const at = copy.nowMs;
  const policyVersion = state.policy?.version ?? 0;
  const opened = apply(copy, { type: 'session-open', at, sessionId: EXPLAIN_ID, clientId: EXPLAIN_ID, user: q.user, host: q.host, app: q.app, ip: q.ip, sessionTtlMs: 1 }, ++index).reply;
  if (!opened.ok) return { decision: 'refused', code: opened.code, message: opened.message, rules: [], version: '', queuePosition: 0, policyVersion };
  const r = apply(
    copy,
    { type: 'checkout', at, sessionId: EXPLAIN_ID, requestId: EXPLAIN_ID, feature: q.feature, ...(q.version !== undefined ? { version: q.version } : {}), count: q.count, wait: true, leaseTtlMs: 1, waitMs: 0 },
    ++index,
  ).reply;
  if (!r.ok) {
    const quoted = /Policy rule "([^"]+)"/.exec(r.message);
    const listedRules = /include list that decides who may use it: (.*)\.$/.exec(r.message);
    return { decision: 'refused', code: r.code, message: r.message, rules: quoted !== null ? [quoted[1] as string] : listedRules !== null ? (listedRules[1] as string).split('; ') : [], version: '', queuePosition: 0, policyVersion };
  }
  if (r.type === 'queued') {
    return { decision: 'queued', code: '', message: `No seat of ${q.feature} is free for ${q.user} on ${q.host} now: a waiting checkout would be number ${r.position} in the queue of version ${r.version}.`, rules: [], version: r.version, queuePosition: r.position, policyVersion };
  }
  if (r.type !== 'granted') throw new Error(`assert: a checkout answered ${r.type}`);
  const lease = copy.leases.get(r.lease.leaseId) as Lease;
  const rules: string[] = [];
  const reserves = lease.pool.rules?.reserves ?? [];
  for (let j = 0; j < lease.draws.length; j += 2) {
    const rule = reserves[lease.draws[j] as number];
    if (rule !== undefined) rules.push(rule.text);
  }
  for (const k of lease.policyCounters.map((c) => c.key)) {
    const m = lease.pool.rules?.maxes.find((x) => k === `m${x.index}` || k.startsWith(`m${x.index}\n`));
    if (m !== undefined && !rules.includes(m.text)) rules.push(m.text);
  }
  const drawn = rules.length > 0 && lease.draws.length > 0 ? ' (from seats reserved for it)' : '';
  return { decision: 'granted', code: '', message: `${q.user} on ${q.host} would get ${q.count} seat(s) of ${q.feature} ${r.lease.version}${drawn}.`, rules, version: r.lease.version, queuePosition: 0, policyVersion };
}

/** The cluster's borrow-token key, once a leader set it (the node signs and verifies tokens with it). */
export function borrowKey(state: PoolState): { publicKey: string; secretKey: string } | undefined {
  return state.borrowKey;
}
