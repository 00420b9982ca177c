// (~1,050 lines: one model of every pool rule, meant to be read top to
// bottom beside apply; split by rule it would need the cross-file state it exists to avoid.)
// A small, obviously-correct model of the seat-pool rules, for tests only:
// plain arrays, linear scans, everything derived on demand, no indexes to
// keep in step. The property test applies the same random commands to it and
// to `apply` and compares every reply and event. Not exported from index.ts.
import { ipMatches, looksLikeIp, parseIpAddress, parseIpPattern } from '../../protocol/ip-pattern.ts';
import { licenseFeatures, type LicensePayload } from '../../protocol/license-payload.ts';
import { describeRule, type FeatureSettings, type Policy, type PolicyFormat, type PolicyRule } from '../../protocol/policy.ts';
import type { CheckoutCommand, PolicySetCommand, PoolCommand } from './commands.ts';
import { POOL_ERROR_CODES, type PoolErrorCode } from './error-codes.ts';
import { POOL_LIMITS_DEFAULT, type PoolLimits } from './limits.ts';
import type { ApplyResult, DequeueReason, LeaseGrant, PoolEvent, PoolReply, RevokeReason, UsageKind } from './results.ts';
import { compareVersions, parseVersion } from './version.ts';

interface RPool { key: string; feature: string; version: string; model: LicensePayload['model']; licenseIds: string[]; lingerMsMax: number; users: string[] }
interface RSession { id: string; clientId: string; user: string; host: string; app: string; ip: string; deadline: number }
interface RLease { id: string; seq: number; pool: string; sessionId: string; clientId: string; user: string; host: string; app: string; ip: string; count: number; fencing: number; deadline: number; lingerSeq: number; draws: [rule: number, seats: number][]; borrow?: { fingerprint: string; revoked: boolean } }
interface RWaiter { requestId: string; key: string; sessionId: string; pool: string; count: number; ttl: number; priority: number; enqueuedAt: number; deadline: number; licenseIds: readonly string[] | undefined }
/** Whom a rule is asked about. */
interface RWho { user: string; host: string; app: string; ip: string }
/** A max limit as it binds someone: the leases it counts and its limit. */
interface RBinding { limit: number; text: string; counts: (l: RLease) => boolean }

/** The reference model's state: plain arrays in creation order. */
export class ReferenceModel {
  readonly limits: PoolLimits;
  now = 0;
  /** The date licenses are judged at: the command's dateMs, else `now`; it may move back. */
  date = 0;
  seq = 1;
  licenses: { p: LicensePayload; keys: string[] }[] = [];
  /** Removed and superseded licenses, in retirement order. */
  retired: { id: string; reason: 'superseded' | 'removed'; by: string; at: number }[] = [];
  pools: RPool[] = [];
  sessions: RSession[] = [];
  leases: RLease[] = [];
  /** All queues in one array: a pool's queue is its waiters in array order. */
  waiters: RWaiter[] = [];
  remembered: { clientId: string; entries: { id: string; key: string; reply: PoolReply }[] }[] = [];
  policy: { source: Policy; version: number; format: PolicyFormat; text: string } | undefined;
  borrowKey: { publicKey: string; secretKey: string } | undefined;
  private at = 0;
  private index = 0;
  private events: PoolEvent[] = [];

  constructor(limits: Partial<PoolLimits> = {}) {
    this.limits = { ...POOL_LIMITS_DEFAULT, ...limits };
  }

  apply(c: PoolCommand, index: number): ApplyResult {
    const prev = this.date;
    this.now = Math.max(this.now, c.at);
    this.at = this.now;
    this.date = c.dateMs ?? this.now;
    this.index = index;
    this.events = [];
    // A key's notBefore or expiresAt between the previous date and this one, whichever way the date moved.
    const [lo, hi] = this.date >= prev ? [prev, this.date] : [this.date, prev];
    const crossed = this.date !== prev && this.licenses.some(({ p }) => [p.notBefore, p.expiresAt].some((t) => t !== undefined && t > lo && t <= hi));
    if (crossed) for (const pool of [...this.pools]) this.refresh(pool, 'license-expired');
    const reply = this.dispatch(c);
    return { reply, events: this.events };
  }

  // ---- derived facts ----
  private inForce(p: LicensePayload): boolean {
    return p.notBefore <= this.date && (p.expiresAt === undefined || this.date < p.expiresAt);
  }
  private keysOf(pool: RPool): LicensePayload[] {
    return pool.licenseIds.map((id) => this.licenses.find((l) => l.p.licenseId === id)?.p).filter((p): p is LicensePayload => p !== undefined && this.inForce(p));
  }
  seatsTotal(pool: RPool): number {
    return this.keysOf(pool).reduce((n, p) => n + p.seats, 0);
  }
  /** Seats of the pool's keys not yet ended: the most a checkout could ever get. */
  seatsCeiling(pool: RPool): number {
    return this.licenses
      .filter(({ p }) => pool.licenseIds.includes(p.licenseId) && (p.expiresAt === undefined || this.date < p.expiresAt))
      .reduce((n, { p }) => n + p.seats, 0);
  }
  /** The seats of the keys a checkout may count on: those it names (all when it names none). */
  private keySeats(pool: RPool, licenseIds: readonly string[] | undefined): number {
    return this.keysOf(pool).filter((p) => licenseIds === undefined || licenseIds.includes(p.licenseId)).reduce((n, p) => n + p.seats, 0);
  }
  private lingerMs(pool: RPool): number {
    return Math.min(Math.max(0, ...this.keysOf(pool).map((p) => p.lingerSeconds)) * 1000, pool.lingerMsMax, this.setting(pool, 'lingerSecondsMax', Infinity) * 1000);
  }
  private hostsMax(pool: RPool): number {
    return Math.max(1, ...this.keysOf(pool).map((p) => p.hostsPerUserMax));
  }
  private leasesOf(pool: RPool): RLease[] {
    return this.leases.filter((l) => l.pool === pool.key);
  }
  seatsInUse(pool: RPool): number {
    const ls = this.leasesOf(pool);
    return pool.model === 'concurrent' ? ls.reduce((n, l) => n + l.count, 0) : new Set(ls.map((l) => l.user)).size;
  }
  private queueOf(pool: RPool): RWaiter[] {
    return this.waiters.filter((w) => w.pool === pool.key);
  }
  private poolOf(key: string): RPool {
    return this.pools.find((p) => p.key === key) as RPool;
  }
  private session(id: string): RSession | undefined {
    return this.sessions.find((s) => s.id === id);
  }
  private grant(l: RLease): LeaseGrant {
    const pool = this.poolOf(l.pool);
    return { leaseId: l.id, feature: pool.feature, version: pool.version, count: l.count, expiresAt: l.deadline, fencingToken: l.fencing };
  }
  private fail(code: PoolErrorCode, message: string = POOL_ERROR_CODES[code]): PoolReply {
    return { ok: false, code, message };
  }
  private usage(usage: Exclude<UsageKind, 'denial'>, pool: RPool, who: { user: string; host: string; clientId: string }, count: number, leaseId: string, waitedMs = 0, reason = ''): void {
    this.events.push({ kind: 'usage', usage, at: this.at, feature: pool.feature, version: pool.version, user: who.user, host: who.host, clientId: who.clientId, count, leaseId, waitedMs, code: '', reason });
  }
  private userUsage(usage: 'user-added' | 'user-removed', pool: RPool, user: string, reason = ''): void {
    this.usage(usage, pool, { user, host: '', clientId: '' }, 1, '', 0, reason);
  }
  private duration(ms: number, min: number): boolean {
    return Number.isInteger(ms) && ms >= min && ms <= this.limits.durationMsMax;
  }

  // ---- remembered requests ----
  /** The first answer to requestId when `key` is the same request; a REQUEST_ID_REUSED refusal when it is not. */
  private recall(clientId: string, requestId: string, key: string): PoolReply | undefined {
    const e = this.remembered.find((c) => c.clientId === clientId)?.entries.find((x) => x.id === requestId);
    if (e === undefined) return undefined;
    return e.key === key ? e.reply : this.reused(requestId, e.key);
  }
  private reused(requestId: string, firstKey: string): PoolReply {
    const first = (JSON.parse(firstKey) as string[])[0];
    return this.fail('REQUEST_ID_REUSED', `The requestId ${requestId} already answered a different ${first}: a retry must repeat the same request, and a new request needs a new requestId.`);
  }
  private remember(clientId: string, requestId: string, key: string, reply: PoolReply): void {
    let c = this.remembered.find((x) => x.clientId === clientId);
    if (c === undefined) {
      if (this.remembered.length >= this.limits.clientsRememberedMax) this.remembered.shift();
      c = { clientId, entries: [] };
      this.remembered.push(c);
    }
    const e = c.entries.find((x) => x.id === requestId);
    if (e !== undefined) e.reply = reply;
    else {
      if (c.entries.length >= this.limits.requestsPerClientRememberedMax) c.entries.shift();
      c.entries.push({ id: requestId, key, reply });
    }
  }
  private forget(clientId: string, requestId: string): void {
    const c = this.remembered.find((x) => x.clientId === clientId);
    if (c !== undefined) c.entries = c.entries.filter((e) => e.id !== requestId);
  }

  // ---- seats ----
  private newLease(pool: RPool, s: RSession, count: number, ttl: number, blocked: Set<number> = new Set()): RLease {
    const seq = this.seq++;
    const l: RLease = {
      id: `L${seq}`, seq, pool: pool.key, sessionId: s.id, clientId: s.clientId, user: s.user, host: s.host, app: s.app, ip: s.ip,
      count, fencing: this.index, deadline: this.at + this.ttl(pool, ttl), lingerSeq: 0, draws: [],
    };
    if (pool.model === 'concurrent') l.draws = this.drawsFor(pool, s, count, blocked);
    this.leases.push(l);
    // The session lives at least as long as the lease (as renew moves both).
    s.deadline = Math.max(s.deadline, l.deadline);
    this.usage('checkout', pool, l, count, l.id);
    return l;
  }
  private drop(l: RLease): void {
    this.leases = this.leases.filter((x) => x !== l);
  }
  private revoke(l: RLease, reason: RevokeReason, message: string, adminReason = ''): void {
    const pool = this.poolOf(l.pool);
    if (l.lingerSeq === 0) {
      if (reason === 'lease-expired') this.usage('expiry', pool, l, l.count, l.id);
      else if (reason === 'force-checkin') this.usage('force-checkin', pool, l, l.count, l.id, 0, adminReason);
      else this.usage('revoke', pool, l, l.count, l.id, 0, reason);
    }
    if (l.lingerSeq === 0) this.events.push({ kind: 'revoked', leaseId: l.id, clientId: l.clientId, sessionId: l.sessionId, feature: pool.feature, version: pool.version, reason, message });
    this.drop(l);
  }
  private checkinLease(l: RLease): number {
    const pool = this.poolOf(l.pool);
    this.usage('checkin', pool, l, l.count, l.id);
    const linger = pool.model === 'concurrent' ? this.lingerMs(pool) : 0;
    if (linger > 0) {
      l.lingerSeq = this.seq++;
      l.deadline = this.at + linger;
      return l.deadline;
    }
    this.drop(l);
    this.serve(pool);
    return this.at;
  }
  private announce(pool: RPool, from: number): void {
    this.queueOf(pool).forEach((w, i) => {
      if (i < from) return;
      const s = this.session(w.sessionId) as RSession;
      this.events.push({ kind: 'queue', clientId: s.clientId, sessionId: s.id, requestId: w.requestId, feature: pool.feature, version: pool.version, position: i + 1 });
    });
  }
  /** `w`'s seats stay within the seats of the keys it names. */
  private withinKeys(pool: RPool, w: RWaiter): boolean {
    return this.keySeats(pool, w.licenseIds) - this.seatsInUse(pool) >= w.count;
  }
  /**
   * Serves the queue in order: a waiter the policy passes over, or whose
   * seats are free for it but its own keys cannot serve it yet, keeps its
   * place; one whose seats are not free holds up those behind it, who then
   * take only their own idle reserved seats that it may not draw on.
   */
  private serve(pool: RPool, movedFrom = Number.POSITIVE_INFINITY): number {
    const queue = this.queueOf(pool);
    let blocked = false;
    const held = new Set<number>();
    let first = -1;
    let n = 0;
    queue.forEach((w, i) => {
      if (this.leasesOf(pool).length >= this.limits.leasesPerPoolMax) return;
      const s = this.session(w.sessionId) as RSession;
      if (this.passedOver(pool, s, w.count)) return;
      if (!this.servable(pool, s, w.count, blocked, held)) {
        blocked = true;
        for (const r of this.reservesOf(pool)) if (this.matches(r.rule, s)) held.add(r.index);
        return;
      }
      if (!this.withinKeys(pool, w)) return;
      if (first < 0) first = i;
      n++;
      this.waiters = this.waiters.filter((x) => x !== w);
      const g = this.grant(this.newLease(pool, s, w.count, w.ttl, blocked ? held : new Set()));
      this.events.push({ kind: 'granted', clientId: s.clientId, sessionId: s.id, requestId: w.requestId, lease: g });
      this.usage('queue-wait', pool, s, w.count, '', this.at - w.enqueuedAt);
      this.remember(s.clientId, w.requestId, w.key, { ok: true, type: 'granted', lease: g });
    });
    if (n > 0) this.announce(pool, Math.min(first, movedFrom));
    return n;
  }

  // ---- the seat policy (docs/policy.md), by brute force ----
  private fold(name: string): string {
    return this.policy?.source.caseSensitive === true ? name : name.toLowerCase();
  }
  private rulesOf(pool: RPool): { rule: PolicyRule; index: number }[] {
    if (this.policy === undefined) return [];
    return this.policy.source.rules
      .map((rule, index) => ({ rule, index }))
      .filter(({ rule }) => (rule.feature === '*' || rule.feature === pool.feature) && (rule.version === undefined || rule.version === pool.version));
  }
  private reservesOf(pool: RPool): { rule: PolicyRule & { kind: 'reserve' }; index: number }[] {
    if (pool.model !== 'concurrent') return [];
    return this.rulesOf(pool).filter((r): r is { rule: PolicyRule & { kind: 'reserve' }; index: number } => r.rule.kind === 'reserve');
  }
  /** Folded names of the groups `user` is in, in the order the policy first defines them. */
  private groupsOf(user: string): string[] {
    const out: string[] = [];
    for (const [name, members] of this.policy?.source.groups ?? []) {
      if (members.some((m) => this.fold(m) === this.fold(user)) && !out.includes(this.fold(name))) out.push(this.fold(name));
    }
    return out;
  }
  private matches(rule: PolicyRule, who: RWho): boolean {
    const w = rule.kind === 'max' ? rule.who : rule.who;
    if (w === undefined) return true;
    const address = parseIpAddress(who.ip);
    switch (w.type) {
      case 'user':
        return this.fold(w.name) === this.fold(who.user);
      case 'host':
        return this.fold(w.name) === this.fold(who.host);
      case 'app':
        return this.fold(w.name) === this.fold(who.app);
      case 'group':
        return this.groupsOf(who.user).includes(this.fold(w.name));
      case 'host-group':
        return (this.policy?.source.hostGroups ?? []).some(
          ([n, members]) =>
            this.fold(n) === this.fold(w.name) &&
            members.some((m) => {
              const pattern = looksLikeIp(m) ? parseIpPattern(m) : undefined;
              if (pattern !== undefined) return address !== undefined && ipMatches(pattern, address);
              return this.fold(m) === this.fold(who.host);
            }),
        );
      case 'ip': {
        const pattern = parseIpPattern(w.name);
        return pattern !== undefined && address !== undefined && ipMatches(pattern, address);
      }
    }
  }
  private listRefusal(pool: RPool, who: RWho, include: 'include', scope: 'use' | 'borrow', what: string): string | undefined {
    const rules = this.rulesOf(pool);
    const name = `${who.user} on ${who.host}`;
    const ex = rules.find(({ rule }) => rule.kind === 'exclude' && rule.scope === scope && this.matches(rule, who));
    if (ex !== undefined) return `Policy rule "${describeRule(ex.rule)}" refuses ${name}.`;
    const inc = rules.filter(({ rule }) => rule.kind === include && rule.scope === scope);
    if (inc.length > 0 && !inc.some(({ rule }) => this.matches(rule, who))) {
      const shown = inc.slice(0, 3).map(({ rule }) => describeRule(rule));
      return `${name} is not on the include list that decides who may ${what}: ${inc.length > 3 ? `${shown.join('; ')}; and ${inc.length - 3} more` : shown.join('; ')}.`;
    }
    return undefined;
  }
  /** Why the policy refuses `who` the pool, or undefined. */
  private excluded(pool: RPool, who: RWho): string | undefined {
    return this.listRefusal(pool, who, 'include', 'use', 'use it');
  }
  /** The max limits binding `who` in `pool`, in rule order. */
  private bindings(pool: RPool, who: RWho): RBinding[] {
    if (pool.model !== 'concurrent') return [];
    const maxes = this.rulesOf(pool).filter(({ rule }) => rule.kind === 'max');
    const named = (type: string, name: string) => maxes.some(({ rule }) => rule.kind === 'max' && rule.who?.type === type && this.fold(rule.who.name) === name);
    const out: RBinding[] = [];
    for (const { rule } of maxes) {
      if (rule.kind !== 'max') continue;
      const text = describeRule(rule);
      if (rule.who !== undefined) {
        if (this.matches(rule, who)) out.push({ limit: rule.count, text, counts: (l) => this.matches(rule, l) });
      } else if (rule.each === 'user') {
        if (!named('user', this.fold(who.user))) out.push({ limit: rule.count, text, counts: (l) => this.fold(l.user) === this.fold(who.user) });
      } else if (rule.each === 'host') {
        if (!named('host', this.fold(who.host))) out.push({ limit: rule.count, text, counts: (l) => this.fold(l.host) === this.fold(who.host) });
      } else {
        for (const g of this.groupsOf(who.user)) if (!named('group', g)) out.push({ limit: rule.count, text, counts: (l) => this.groupsOf(l.user).includes(g) });
      }
    }
    return out;
  }
  /** The first max limit `count` more seats of `who` would break (not counting `except`), or undefined. */
  private maxBroken(pool: RPool, who: RWho, count: number, except?: RLease): RBinding | undefined {
    return this.bindings(pool, who).find((b) => this.leasesOf(pool).filter((l) => l !== except && b.counts(l)).reduce((n, l) => n + l.count, 0) + count > b.limit);
  }
  private passedOver(pool: RPool, who: RWho, count: number): boolean {
    return this.excluded(pool, who) !== undefined || this.maxBroken(pool, who, count) !== undefined;
  }
  private idle(pool: RPool, r: { rule: PolicyRule & { kind: 'reserve' }; index: number }): number {
    return r.rule.count - this.leasesOf(pool).reduce((n, l) => n + l.draws.filter(([i]) => i === r.index).reduce((m, [, k]) => m + k, 0), 0);
  }
  private ownIdle(pool: RPool, who: RWho, held: ReadonlySet<number>): number {
    return this.reservesOf(pool).filter((r) => this.matches(r.rule, who) && !held.has(r.index)).reduce((n, r) => n + this.idle(pool, r), 0);
  }
  /** Seats free for `who`: free ones less those reserved, idle, for others. */
  private freeFor(pool: RPool, who: RWho): number {
    const others = this.reservesOf(pool).filter((r) => !this.matches(r.rule, who)).reduce((n, r) => n + this.idle(pool, r), 0);
    return this.seatsTotal(pool) - this.seatsInUse(pool) - others;
  }
  private servable(pool: RPool, who: RWho, count: number, blocked: boolean, held: ReadonlySet<number>): boolean {
    return this.freeFor(pool, who) >= count && (!blocked || this.ownIdle(pool, who, held) >= count);
  }
  /** A new lease's draws on the reservations of its holder, in rule order, skipping `held`. */
  private drawsFor(pool: RPool, who: RWho, count: number, held: ReadonlySet<number>): [number, number][] {
    const out: [number, number][] = [];
    let left = count;
    for (const r of this.reservesOf(pool)) {
      if (left === 0) break;
      if (held.has(r.index) || !this.matches(r.rule, who)) continue;
      const k = Math.min(left, this.idle(pool, r));
      if (k <= 0) continue;
      out.push([r.index, k]);
      left -= k;
    }
    return out;
  }
  private priority(pool: RPool, who: RWho): number {
    if (pool.model !== 'concurrent') return 0;
    return Math.max(0, ...this.rulesOf(pool).map(({ rule }) => (rule.kind === 'priority' && this.matches(rule, who) ? rule.level : 0)));
  }
  /** The most specific settings entry covering `pool` that sets `field` (feature and version, feature, "*"; first in the document among equals). */
  private setting(pool: RPool, field: keyof FeatureSettings, otherwise: number): number {
    const rank = (f: FeatureSettings) => (f.feature === '*' ? 0 : f.version === undefined ? 1 : 2);
    const covering = (this.policy?.source.features ?? []).filter(
      (f) => (f.feature === '*' || f.feature === pool.feature) && (f.version === undefined || f.version === pool.version) && typeof f[field] === 'number',
    );
    const best = Math.max(-1, ...covering.map(rank));
    const f = covering.find((x) => rank(x) === best);
    return f === undefined ? otherwise : (f[field] as number);
  }
  private ttl(pool: RPool, ttl: number): number {
    const min = this.setting(pool, 'leaseTtlSecondsMin', 0) * 1000;
    const max = this.setting(pool, 'leaseTtlSecondsMax', Infinity) * 1000;
    return ttl < min ? min : ttl > max ? max : ttl;
  }

  /** Takes `w` out of its queue and tells its client; returns its former position (0-based). */
  private unqueue(w: RWaiter, reason: DequeueReason): number {
    const pool = this.poolOf(w.pool);
    const i = this.queueOf(pool).indexOf(w);
    this.waiters = this.waiters.filter((x) => x !== w);
    const s = this.session(w.sessionId) as RSession;
    this.forget(s.clientId, w.requestId);
    this.events.push({ kind: 'dequeued', clientId: s.clientId, sessionId: s.id, requestId: w.requestId, feature: pool.feature, version: pool.version, reason });
    this.usage('queue-wait', pool, s, w.count, '', this.at - w.enqueuedAt);
    return i;
  }
  private dequeue(w: RWaiter, reason: DequeueReason): void {
    const pool = this.poolOf(w.pool);
    const i = this.unqueue(w, reason);
    if (this.serve(pool, i) > 0) return;
    this.announce(pool, i);
  }
  /** `dequeue` without serving: the caller serves the queue. */
  private leave(w: RWaiter, reason: DequeueReason): void {
    this.announce(this.poolOf(w.pool), this.unqueue(w, reason));
  }
  private refresh(pool: RPool, reason: RevokeReason): void {
    const message = reason === 'license-removed' ? `A license of ${pool.feature} ${pool.version} was removed and its seats with it.` : `A license of ${pool.feature} ${pool.version} ended and its seats with it.`;
    const total = this.seatsTotal(pool);
    if (pool.model === 'authorized-user') {
      while (pool.users.length > total) {
        const u = pool.users.pop() as string;
        for (const l of this.leasesOf(pool)) if (l.user === u) this.revoke(l, reason, message);
        this.userUsage('user-removed', pool, u, reason);
      }
      return;
    }
    while (this.seatsInUse(pool) > total) {
      const ls = this.leasesOf(pool);
      const lingering = ls.filter((l) => l.lingerSeq > 0);
      const held = ls.filter((l) => l.lingerSeq === 0 && l.borrow === undefined);
      const victim = (lingering.length > 0 ? lingering : held.length > 0 ? held : ls).reduce((a, b) => (b.seq > a.seq ? b : a));
      this.revoke(victim, reason, message);
    }
    // A pool losing its last key is removed next, and its waiters with it ('pool-removed').
    if (pool.licenseIds.length > 0) for (const w of this.queueOf(pool)) if (w.count > this.seatsCeiling(pool)) this.leave(w, 'seats-reduced');
    this.serve(pool);
  }
  private queued(w: RWaiter): PoolReply {
    const pool = this.poolOf(w.pool);
    return { ok: true, type: 'queued', feature: pool.feature, version: pool.version, position: this.queueOf(pool).indexOf(w) + 1, waitUntilMs: w.deadline };
  }

  // ---- commands ----
  private dispatch(c: PoolCommand): PoolReply {
    switch (c.type) {
      case 'checkout': {
        const s = this.session(c.sessionId);
        if (s === undefined) return this.fail('SESSION_NOT_FOUND');
        const key = JSON.stringify([c.type, c.feature, c.version ?? null, c.count, c.wait]);
        const first = this.recall(s.clientId, c.requestId, key);
        if (first !== undefined) return first;
        const waiting = this.waiters.find((w) => w.sessionId === s.id && w.requestId === c.requestId);
        if (waiting !== undefined && waiting.key !== key) return this.reused(c.requestId, waiting.key);
        const reply = this.checkout(c, s, key);
        if (!reply.ok) {
          this.events.push({ kind: 'usage', usage: 'denial', at: this.at, feature: c.feature, version: c.version ?? '', user: s.user, host: s.host, clientId: s.clientId, count: c.count, leaseId: '', waitedMs: 0, code: reply.code, reason: '' });
        }
        this.remember(s.clientId, c.requestId, key, reply);
        return reply;
      }
      case 'checkin': {
        const s = this.session(c.sessionId);
        if (s === undefined) return this.fail('SESSION_NOT_FOUND');
        const key = JSON.stringify([c.type, c.leaseId]);
        const first = this.recall(s.clientId, c.requestId, key);
        if (first !== undefined) return first;
        // Only this session's own held leases: any other id, existing or not, is not found.
        const l = this.leases.find((x) => x.id === c.leaseId && x.lingerSeq === 0 && x.sessionId === s.id);
        let reply: PoolReply;
        if (l === undefined) reply = this.fail('LEASE_NOT_FOUND');
        else if (l.borrow !== undefined) reply = this.fail('LEASE_BORROWED');
        else reply = { ok: true, type: 'checked-in', leaseId: l.id, lingerUntilMs: this.checkinLease(l) };
        this.remember(s.clientId, c.requestId, key, reply);
        return reply;
      }
      case 'checkout-cancel': {
        if (this.session(c.sessionId) === undefined) return this.fail('SESSION_NOT_FOUND');
        const w = this.waiters.find((x) => x.sessionId === c.sessionId && x.requestId === c.requestId);
        if (w === undefined) return this.fail('QUEUED_REQUEST_NOT_FOUND');
        this.dequeue(w, 'cancelled');
        return { ok: true, type: 'checkout-cancelled', requestId: c.requestId };
      }
      case 'renew': {
        if (!this.duration(c.leaseTtlMs, 1)) return this.fail('DURATION_INVALID');
        if (c.leaseIds.length + c.sessionIds.length > this.limits.renewIdsMax) return this.fail('BATCH_LIMIT_REACHED');
        const until = this.at + c.leaseTtlMs;
        let leaseCount = 0;
        const unknownLeaseIds: string[] = [];
        const unknownSessionIds: string[] = [];
        for (const id of c.leaseIds) {
          const l = this.leases.find((x) => x.id === id && x.lingerSeq === 0 && x.borrow === undefined);
          if (l === undefined) {
            unknownLeaseIds.push(id);
            continue;
          }
          leaseCount++;
          const leaseUntil = this.at + this.ttl(this.poolOf(l.pool), c.leaseTtlMs);
          l.deadline = Math.max(l.deadline, leaseUntil);
          const s = this.session(l.sessionId) as RSession;
          s.deadline = Math.max(s.deadline, until, leaseUntil);
        }
        for (const id of c.sessionIds) {
          const s = this.session(id);
          if (s === undefined) {
            unknownSessionIds.push(id);
            continue;
          }
          s.deadline = Math.max(s.deadline, until);
          for (const l of this.leases) {
            if (l.sessionId === id && l.lingerSeq === 0 && l.borrow === undefined) {
              leaseCount++;
              const leaseUntil = this.at + this.ttl(this.poolOf(l.pool), c.leaseTtlMs);
              l.deadline = Math.max(l.deadline, leaseUntil);
              s.deadline = Math.max(s.deadline, leaseUntil);
            }
          }
        }
        return { ok: true, type: 'renewed', leaseCount, expiresAt: until, unknownLeaseIds, unknownSessionIds };
      }
      case 'expire': {
        const byDeadline = <T extends { deadline: number }>(xs: T[], seqOf: (x: T) => number): T | undefined =>
          xs.filter((x) => x.deadline <= this.at).sort((a, b) => a.deadline - b.deadline || seqOf(a) - seqOf(b))[0];
        let waiterCount = 0;
        let sessionCount = 0;
        let leaseCount = 0;
        let lingerCount = 0;
        // 1. Waits that ended.
        for (let w = byDeadline(this.waiters, (x) => this.waiterSeq.get(x) ?? 0); w !== undefined; w = byDeadline(this.waiters, (x) => this.waiterSeq.get(x) ?? 0)) {
          this.leave(w, 'wait-timeout');
          waiterCount++;
        }
        // 2. Dead sessions lose their waits before any seat is granted.
        const closing = this.sessions
          .filter((s) => s.deadline <= this.at)
          .sort((a, b) => a.deadline - b.deadline || (this.sessionSeq.get(a) ?? 0) - (this.sessionSeq.get(b) ?? 0));
        let waitersLeft = waiterCount;
        for (const s of closing) {
          for (const w of this.waiters.filter((x) => x.sessionId === s.id)) {
            this.leave(w, 'session-closed');
            waitersLeft++;
          }
        }
        if (waitersLeft > 0) for (const pool of [...this.pools]) this.serve(pool);
        // 3. Leases due: held ones expire, lingering ones end.
        for (let l = byDeadline(this.leases, (x) => x.seq); l !== undefined; l = byDeadline(this.leases, (x) => x.seq)) {
          const pool = this.poolOf(l.pool);
          if (l.lingerSeq > 0) {
            lingerCount++;
            this.drop(l);
          } else if (l.borrow !== undefined) {
            leaseCount++;
            this.usage('borrow-end', pool, l, l.count, l.id);
            this.drop(l);
          } else {
            leaseCount++;
            this.revoke(l, 'lease-expired', 'The lease expired: it was not renewed in time.');
          }
          this.serve(pool);
        }
        // 4. The dead sessions close with what they still hold.
        for (const s of closing) {
          this.endSession(s);
          sessionCount++;
        }
        return { ok: true, type: 'expired', leaseCount, lingerCount, waiterCount, sessionCount };
      }
      case 'session-open': {
        if (this.session(c.sessionId) !== undefined) return this.fail('SESSION_EXISTS');
        if (this.sessions.length >= this.limits.sessionsMax) return this.fail('SESSIONS_LIMIT_REACHED');
        if (!this.duration(c.sessionTtlMs, 1)) return this.fail('DURATION_INVALID');
        const s: RSession = { id: c.sessionId, clientId: c.clientId, user: c.user, host: c.host, app: c.app, ip: c.ip ?? '', deadline: this.at + c.sessionTtlMs };
        this.sessionSeq.set(s, this.seq++);
        this.sessions.push(s);
        // Borrowed seats revoked while this client was offline come back now.
        for (const l of this.leases.filter((x) => x.borrow?.revoked === true && x.clientId === s.clientId)) {
          const pool = this.poolOf(l.pool);
          this.usage('revoke', pool, l, l.count, l.id, 0, 'borrow-revoked');
          this.events.push({
            kind: 'revoked', leaseId: l.id, clientId: l.clientId, sessionId: s.id, feature: pool.feature, version: pool.version, reason: 'borrow-revoked',
            message: 'An administrator revoked this borrowed seat while this client was offline; the seat is back in the pool and the borrow token is void.',
          });
          this.drop(l);
          this.serve(pool);
        }
        return { ok: true, type: 'session-opened', sessionId: s.id };
      }
      case 'session-close': {
        const s = this.session(c.sessionId);
        if (s === undefined) return this.fail('SESSION_NOT_FOUND');
        return { ok: true, type: 'session-closed', sessionId: s.id, leaseCount: this.closeSession(s) };
      }
      case 'force-checkin': {
        const l = this.leases.find((x) => x.id === c.leaseId);
        if (l === undefined) return this.fail('LEASE_NOT_FOUND');
        const pool = this.poolOf(l.pool);
        const reason = c.reason.slice(0, 200);
        if (l.borrow !== undefined && !this.borrowerOnline(l)) {
          l.borrow.revoked = true;
          return { ok: true, type: 'force-checked-in', leaseId: l.id, borrowedUntilMs: l.deadline };
        }
        this.revoke(l, 'force-checkin', `An administrator checked the seat in: ${reason}`, reason);
        this.serve(pool);
        return { ok: true, type: 'force-checked-in', leaseId: l.id };
      }
      case 'license-install': {
        const p = c.license;
        if (this.licenses.some((l) => l.p.licenseId === p.licenseId)) return this.fail('LICENSE_EXISTS');
        const mine = this.retired.find((r) => r.id === p.licenseId);
        if (mine?.reason === 'superseded') return this.fail('SUPERSEDED', `License ${p.licenseId} was superseded by ${mine.by}; only that key (or a later one) is installed.`);
        if (mine?.reason === 'removed' && c.from === 'license-file') {
          return this.fail('LICENSE_REMOVED', `License ${p.licenseId} was removed by an admin; a license file does not install it again (an admin import does).`);
        }
        const old = this.licenses.find((l) => l.p.licenseId === p.supersedes);
        if (this.licenses.length - (old === undefined ? 0 : 1) >= this.limits.licensesMax) return this.fail('LICENSES_LIMIT_REACHED');
        if (p.expiresAt !== undefined && p.expiresAt <= this.date) return this.fail('LICENSE_EXPIRED');
        const features = [...new Set(licenseFeatures(p))];
        const keys = features.map((f) => `${f}@${p.version}`);
        const oldOnly = (x: RPool): boolean => old !== undefined && x.licenseIds.every((id) => id === old.p.licenseId);
        if (keys.some((k) => this.pools.some((x) => x.key === k && x.model !== p.model && !oldOnly(x)))) return this.fail('MODEL_CONFLICT');
        if (this.pools.length + keys.filter((k) => !this.pools.some((x) => x.key === k)).length > this.limits.poolsMax) return this.fail('POOLS_LIMIT_REACHED');
        const before = this.retired.find((r) => r.id === p.supersedes);
        const retires = p.supersedes !== undefined && before?.reason !== 'superseded';
        if (this.retired.length - (mine === undefined ? 0 : 1) + (retires && before === undefined ? 1 : 0) > this.limits.licensesRetiredMax) {
          return this.fail('RETIRED_LICENSES_LIMIT_REACHED');
        }
        if (old !== undefined) {
          this.licenses = this.licenses.filter((l) => l !== old);
          for (const pool of this.pools) pool.licenseIds = pool.licenseIds.filter((id) => id !== old.p.licenseId);
          // Queued checkouts limited to their node's keys count the new key where they counted the old.
          for (const w of this.waiters) if (w.licenseIds?.includes(old.p.licenseId) === true) w.licenseIds = w.licenseIds.map((id) => (id === old.p.licenseId ? p.licenseId : id));
        }
        if (retires) {
          const entry = { id: p.supersedes as string, reason: 'superseded' as const, by: p.licenseId, at: this.at };
          if (before === undefined) this.retired.push(entry);
          else Object.assign(before, entry);
        }
        if (mine !== undefined) this.retired = this.retired.filter((r) => r !== mine);
        this.licenses.push({ p, keys });
        features.forEach((feature, i) => {
          let pool = this.pools.find((x) => x.key === keys[i]);
          if (pool !== undefined && pool.model !== p.model) {
            this.refresh(pool, 'license-removed');
            this.dropPool(pool);
            pool = undefined;
          }
          if (pool === undefined) {
            pool = { key: keys[i] as string, feature, version: p.version, model: p.model, licenseIds: [], lingerMsMax: this.limits.durationMsMax, users: [] };
            this.pools.push(pool);
          }
          pool.licenseIds.push(p.licenseId);
          if (old !== undefined) for (const k of old.keys) this.carryOver(k, pool);
          this.refresh(pool, 'license-removed');
        });
        if (old !== undefined) for (const key of old.keys) if (!keys.includes(key)) this.refreshOrDrop(key);
        return {
          ok: true,
          type: 'license-installed',
          licenseId: p.licenseId,
          ...(old === undefined ? {} : { supersededLicenseId: old.p.licenseId }),
          pools: features.map((feature) => ({ feature, version: p.version })),
        };
      }
      case 'license-remove': {
        const lic = this.licenses.find((l) => l.p.licenseId === c.licenseId);
        if (lic === undefined) return this.fail('LICENSE_NOT_FOUND');
        if (this.retired.length >= this.limits.licensesRetiredMax) return this.fail('RETIRED_LICENSES_LIMIT_REACHED');
        this.licenses = this.licenses.filter((l) => l !== lic);
        for (const pool of this.pools) pool.licenseIds = pool.licenseIds.filter((id) => id !== c.licenseId);
        this.retired.push({ id: c.licenseId, reason: 'removed', by: '', at: this.at });
        for (const key of lic.keys) this.refreshOrDrop(key);
        return { ok: true, type: 'license-removed', licenseId: c.licenseId };
      }
      case 'users-assign': {
        const pool = this.pools.find((x) => x.key === `${c.feature}@${c.version}`);
        if (pool === undefined) return this.fail('POOL_NOT_FOUND');
        if (pool.model !== 'authorized-user') return this.fail('POOL_NOT_AUTHORIZED_USER');
        const users = [...new Set(c.users)];
        if (users.length > this.seatsTotal(pool)) return this.fail('USERS_EXCEED_SEATS');
        for (const u of pool.users) {
          if (users.includes(u)) continue;
          for (const l of this.leasesOf(pool)) if (l.user === u) this.revoke(l, 'user-unassigned', `${u} is no longer a named user of ${pool.feature} ${pool.version}.`);
          this.userUsage('user-removed', pool, u);
        }
        for (const u of users) if (!pool.users.includes(u)) this.userUsage('user-added', pool, u);
        pool.users = users;
        return { ok: true, type: 'users-assigned', feature: pool.feature, version: pool.version, userCount: users.length };
      }
      case 'pool-configure': {
        const pool = this.pools.find((x) => x.key === `${c.feature}@${c.version}`);
        if (pool === undefined) return this.fail('POOL_NOT_FOUND');
        if (!this.duration(c.lingerMsMax, 0)) return this.fail('DURATION_INVALID');
        pool.lingerMsMax = c.lingerMsMax;
        this.refresh(pool, 'license-removed');
        return { ok: true, type: 'pool-configured', feature: pool.feature, version: pool.version };
      }
      case 'grace': {
        if (!this.duration(c.graceMs, 0)) return this.fail('DURATION_INVALID');
        const until = this.at + c.graceMs;
        for (const l of this.leases) if (l.lingerSeq === 0 && l.borrow === undefined) l.deadline = Math.max(l.deadline, until);
        for (const s of this.sessions) s.deadline = Math.max(s.deadline, until);
        for (const w of this.waiters) w.deadline = Math.max(w.deadline, until);
        return { ok: true, type: 'grace', untilMs: until };
      }
      case 'policy-set':
        return this.policySet(c);
      case 'borrow': {
        const s = this.session(c.sessionId);
        if (s === undefined) return this.fail('SESSION_NOT_FOUND');
        const key = JSON.stringify([c.type, c.feature, c.version ?? null, c.durationMs, c.fingerprint]);
        const first = this.recall(s.clientId, c.requestId, key);
        if (first !== undefined) return first;
        const waiting = this.waiters.find((w) => w.sessionId === s.id && w.requestId === c.requestId);
        if (waiting !== undefined) return this.reused(c.requestId, waiting.key);
        const reply = this.borrow(c, s);
        if (!reply.ok) {
          this.events.push({ kind: 'usage', usage: 'denial', at: this.at, feature: c.feature, version: c.version ?? '', user: s.user, host: s.host, clientId: s.clientId, count: 1, leaseId: '', waitedMs: 0, code: reply.code, reason: 'borrow' });
        }
        this.remember(s.clientId, c.requestId, key, reply);
        return reply;
      }
      case 'return': {
        // The client's seat, not a session's: no session is needed.
        const key = JSON.stringify([c.type, c.leaseId]);
        const first = this.recall(c.clientId, c.requestId, key);
        if (first !== undefined) return first;
        const l = this.leases.find((x) => x.id === c.leaseId);
        let reply: PoolReply;
        if (l === undefined || l.clientId !== c.clientId) reply = this.fail('LEASE_NOT_FOUND');
        else if (l.borrow === undefined) reply = this.fail('LEASE_NOT_BORROWED');
        else {
          const pool = this.poolOf(l.pool);
          this.usage('return', pool, l, l.count, l.id);
          this.drop(l);
          this.serve(pool);
          reply = { ok: true, type: 'returned', leaseId: l.id };
        }
        this.remember(c.clientId, c.requestId, key, reply);
        return reply;
      }
      case 'borrow-key-set': {
        if (this.borrowKey !== undefined) return { ok: true, type: 'borrow-key-set', publicKey: this.borrowKey.publicKey, changed: false };
        if (!/^[A-Za-z0-9_-]{43}$/.test(c.publicKey) || !/^[A-Za-z0-9_-]{43}$/.test(c.secretKey)) return this.fail('BORROW_KEY_INVALID');
        this.borrowKey = { publicKey: c.publicKey, secretKey: c.secretKey };
        return { ok: true, type: 'borrow-key-set', publicKey: c.publicKey, changed: true };
      }
    }
  }

  /**
   * A renewal: the pool `fromKey`, left without a key, of the same feature and
   * model as `to` and an older version, moves into `to` — leases in grant
   * order, users, waiters in queue order — as far as `to`'s limits allow.
   */
  private carryOver(fromKey: string, to: RPool): void {
    const from = this.pools.find((x) => x.key === fromKey);
    if (from === undefined || from === to || from.feature !== to.feature || from.model !== to.model || from.licenseIds.length > 0) return;
    if (compareVersions(parseVersion(to.version) as number[], parseVersion(from.version) as number[]) <= 0) return;
    for (const l of this.leasesOf(from)) {
      if (this.leasesOf(to).length >= this.limits.leasesPerPoolMax) break;
      l.draws = [];
      if (to.model === 'concurrent') l.draws = this.drawsFor(to, l, l.count, new Set());
      l.pool = to.key;
    }
    for (const u of from.users) {
      if (to.users.includes(u)) continue;
      to.users.push(u);
      this.userUsage('user-added', to, u);
    }
    for (const w of this.queueOf(from)) {
      const queue = this.queueOf(to);
      if (queue.length >= this.limits.queueLengthMax) continue;
      const s = this.session(w.sessionId) as RSession;
      w.priority = this.priority(to, s);
      const before = queue[this.slot(to, w.priority)];
      this.waiters = this.waiters.filter((x) => x !== w);
      w.pool = to.key;
      if (before === undefined) this.waiters.push(w);
      else this.waiters.splice(this.waiters.indexOf(before), 0, w);
    }
  }
  private refreshOrDrop(key: string): void {
    const pool = this.pools.find((x) => x.key === key);
    if (pool === undefined) return;
    this.refresh(pool, 'license-removed');
    if (pool.licenseIds.length === 0) this.dropPool(pool);
  }
  private dropPool(pool: RPool): void {
    for (let q = this.queueOf(pool); q.length > 0; q = this.queueOf(pool)) this.dequeue(q[q.length - 1] as RWaiter, 'pool-removed');
    this.pools = this.pools.filter((x) => x !== pool);
  }
  /** The session that borrowed `l` is still open: its client is online. */
  private borrowerOnline(l: RLease): boolean {
    return this.sessions.some((s) => s.id === l.sessionId && s.clientId === l.clientId);
  }
  /** `ms`: the longest borrow the pool's keys in force allow (0: none allows). */
  private borrowMs(pool: RPool): number {
    return Math.max(0, ...this.keysOf(pool).filter((p) => p.borrowAllowed === true).map((p) => (p.borrowHoursMax ?? 168) * 3_600_000));
  }
  private borrow(c: Extract<PoolCommand, { type: 'borrow' }>, s: RSession): PoolReply {
    if (!Number.isInteger(c.durationMs) || c.durationMs < 1 || c.durationMs > this.limits.borrowMsMax) return this.fail('DURATION_INVALID');
    if (c.fingerprint.length === 0 || c.fingerprint.length > 128) return this.fail('FINGERPRINT_INVALID');
    const all = this.pools.filter((p) => p.feature === c.feature);
    if (all.length === 0) return this.fail('UNKNOWN_FEATURE');
    const asked = c.version === undefined ? null : parseVersion(c.version);
    if (asked === null && c.version !== undefined) return this.fail('VERSION_NOT_LICENSED');
    const eligible = all
      .filter((p) => asked === null || compareVersions(parseVersion(p.version) as number[], asked) >= 0)
      .sort((a, b) => compareVersions(parseVersion(a.version) as number[], parseVersion(b.version) as number[]) || (a.version < b.version ? -1 : 1));
    const hours = (ms: number) => (Number.isInteger(ms / 3_600_000) ? `${ms / 3_600_000}` : (ms / 3_600_000).toFixed(2));
    let refusal: PoolReply | undefined;
    for (const pool of eligible) {
      const name = `${pool.feature} ${pool.version}`;
      if (pool.model !== 'concurrent') {
        refusal ??= this.fail('BORROW_NOT_ALLOWED', `${name} is an authorized-user pool: its seats are not borrowed.`);
        continue;
      }
      const why = this.excluded(pool, s) ?? this.listRefusal(pool, s, 'include', 'borrow', 'borrow it');
      if (why !== undefined) {
        refusal ??= this.fail('POLICY_EXCLUDED', why);
        continue;
      }
      const keyMs = this.borrowMs(pool);
      if (keyMs === 0) {
        refusal ??= this.fail('BORROW_NOT_ALLOWED', `No key of ${name} in force allows borrowing.`);
        continue;
      }
      const policyMs = this.setting(pool, 'borrowHoursMax', Infinity) * 3_600_000;
      const longest = Math.min(policyMs, keyMs);
      if (c.durationMs > longest) {
        refusal ??= this.fail('BORROW_TOO_LONG', `A seat of ${name} may be borrowed for at most ${hours(longest)} hours (${policyMs < keyMs ? 'the seat policy' : 'its key'}); ${hours(c.durationMs)} were asked.`);
        continue;
      }
      const b = this.maxBroken(pool, s, 1);
      if (b !== undefined) {
        refusal ??= this.fail('POLICY_MAX', `Policy rule "${b.text}" is reached for ${s.user} on ${s.host}.`);
        continue;
      }
      const total = this.seatsTotal(pool);
      const lowWater = this.setting(pool, 'borrowLowWater', 0);
      const share = this.setting(pool, 'borrowSharePercentMax', 100);
      const borrowed = this.leasesOf(pool).filter((l) => l.borrow !== undefined).reduce((n, l) => n + l.count, 0);
      if (borrowed + 1 > Math.min(total - lowWater, Math.floor((total * share) / 100))) {
        refusal ??= this.fail('BORROW_LIMIT_REACHED', `${borrowed} of the ${total} seats of ${name} are borrowed, the most the seat policy allows (borrow_low_water ${lowWater}, borrow_share_percent_max ${share}).`);
        continue;
      }
      const slot = this.slot(pool, this.priority(pool, s));
      let blocked = false;
      const held = new Set<number>();
      for (const w of this.queueOf(pool).slice(0, slot)) {
        const ws = this.session(w.sessionId) as RSession;
        if (this.passedOver(pool, ws, w.count)) continue;
        if (this.leasesOf(pool).length < this.limits.leasesPerPoolMax && this.servable(pool, ws, w.count, blocked, held) && !this.withinKeys(pool, w)) continue;
        blocked = true;
        for (const r of this.reservesOf(pool)) if (this.matches(r.rule, ws)) held.add(r.index);
      }
      if (!this.servable(pool, s, 1, blocked, held)) {
        refusal ??= this.fail('NO_SEATS', `Every seat of ${c.feature} that could be borrowed is held, reserved for others or waited for.`);
        continue;
      }
      const served = this.keySeats(pool, c.licenseIds);
      if (c.licenseIds !== undefined && served - this.seatsInUse(pool) < 1) {
        refusal ??= this.fail('NO_SEATS', `Every seat of ${c.feature} this server serves is held: ${this.seatsInUse(pool)} of ${this.seatsTotal(pool)} seats are held and it serves ${served} of them (the keys that pass its lock codes).`);
        continue;
      }
      if (this.leasesOf(pool).length >= this.limits.leasesPerPoolMax) return this.fail('LEASES_PER_POOL_LIMIT_REACHED');
      const seq = this.seq++;
      const l: RLease = {
        id: `L${seq}`, seq, pool: pool.key, sessionId: s.id, clientId: s.clientId, user: s.user, host: s.host, app: s.app, ip: s.ip,
        count: 1, fencing: this.index, deadline: this.at + c.durationMs, lingerSeq: 0, draws: [], borrow: { fingerprint: c.fingerprint, revoked: false },
      };
      l.draws = this.drawsFor(pool, s, 1, blocked ? held : new Set());
      this.leases.push(l);
      this.usage('borrow', pool, l, 1, l.id);
      return { ok: true, type: 'borrowed', lease: this.grant(l), borrowedAt: this.at, clientId: s.clientId, user: s.user, host: s.host, fingerprint: c.fingerprint };
    }
    return refusal ?? this.fail('VERSION_NOT_LICENSED');
  }

  private policySet(c: PolicySetCommand): PoolReply {
    const before = this.policy?.version ?? 0;
    if (c.expectedVersion !== undefined && c.expectedVersion !== before) {
      return this.fail('POLICY_VERSION_CONFLICT', `The policy in force is version ${before}, not ${c.expectedVersion}: read it again.`);
    }
    // Which leases the new rules refuse, counting each pool's leases in grant order.
    const old = this.policy;
    this.policy = { source: c.policy, version: before + 1, format: c.format, text: c.text };
    const violating: RLease[] = [];
    for (const l of [...this.leases].sort((a, b) => a.seq - b.seq)) {
      const pool = this.poolOf(l.pool);
      if (this.excluded(pool, l) !== undefined) {
        violating.push(l);
        continue;
      }
      const earlier = this.leases.filter((x) => x.pool === l.pool && x.seq < l.seq && !violating.includes(x));
      if (this.bindings(pool, l).some((b) => earlier.filter((x) => b.counts(x)).reduce((n, x) => n + x.count, 0) + l.count > b.limit)) violating.push(l);
    }
    void old;
    // Reservations drawn afresh, in grant order.
    for (const l of this.leases) l.draws = [];
    for (const l of [...this.leases].sort((a, b) => a.seq - b.seq)) {
      const pool = this.poolOf(l.pool);
      if (pool.model === 'concurrent') l.draws = this.drawsFor(pool, l, l.count, new Set());
    }
    let dequeued = 0;
    for (const pool of [...this.pools]) {
      for (const w of this.queueOf(pool)) {
        if (this.excluded(pool, this.session(w.sessionId) as RSession) === undefined) continue;
        this.leave(w, 'policy-excluded');
        dequeued++;
      }
    }
    const revoke = c.revokeViolating ? violating : [];
    for (const l of revoke) {
      if (l.borrow !== undefined && !this.borrowerOnline(l)) l.borrow.revoked = true;
      else this.revoke(l, 'policy', `The seat policy (version ${before + 1}) no longer allows this seat.`);
    }
    for (const pool of [...this.pools]) this.serve(pool);
    return { ok: true, type: 'policy-set', version: before + 1, revokedLeaseIds: revoke.map((l) => l.id), dequeuedCount: dequeued };
  }

  private readonly sessionSeq = new Map<RSession, number>();
  private readonly waiterSeq = new Map<RWaiter, number>();

  private closeSession(s: RSession): number {
    for (let w = this.waiters.find((x) => x.sessionId === s.id); w !== undefined; w = this.waiters.find((x) => x.sessionId === s.id)) this.dequeue(w, 'session-closed');
    return this.endSession(s);
  }
  private endSession(s: RSession): number {
    const held = this.leases.filter((l) => l.sessionId === s.id && l.lingerSeq === 0 && l.borrow === undefined);
    for (const l of held) this.checkinLease(l);
    this.sessions = this.sessions.filter((x) => x !== s);
    return held.length;
  }

  private checkout(c: CheckoutCommand, s: RSession, key: string): PoolReply {
    const count = c.count;
    if (!Number.isInteger(count) || count < 1) return this.fail('COUNT_INVALID');
    if (!this.duration(c.leaseTtlMs, 1) || (c.wait && !this.duration(c.waitMs, 0))) return this.fail('DURATION_INVALID');
    const existing = this.waiters.find((w) => w.sessionId === s.id && w.requestId === c.requestId);
    if (existing !== undefined) return this.queued(existing);
    const mine = this.leases.filter((l) => l.sessionId === s.id && l.lingerSeq === 0 && l.borrow === undefined).length + this.waiters.filter((w) => w.sessionId === s.id).length;
    if (mine >= this.limits.leasesPerSessionMax) return this.fail('LEASES_PER_SESSION_LIMIT_REACHED');
    const all = this.pools.filter((p) => p.feature === c.feature);
    if (all.length === 0) return this.fail('UNKNOWN_FEATURE');
    const asked = c.version === undefined ? null : parseVersion(c.version);
    if (asked === null && c.version !== undefined) return this.fail('VERSION_NOT_LICENSED');
    const eligible = all
      .filter((p) => asked === null || compareVersions(parseVersion(p.version) as number[], asked) >= 0)
      .sort((a, b) => compareVersions(parseVersion(a.version) as number[], parseVersion(b.version) as number[]) || (a.version < b.version ? -1 : 1));
    let refusal: PoolReply | undefined;
    /** The concurrent pools the policy did not refuse, in version order. */
    const counted: RPool[] = [];
    for (const pool of eligible) {
      const why = this.excluded(pool, s);
      if (why !== undefined) {
        refusal ??= this.fail('POLICY_EXCLUDED', why);
        continue;
      }
      if (pool.model === 'concurrent') {
        const old = this.leases
          .filter((l) => l.pool === pool.key && l.lingerSeq > 0 && l.user === s.user && l.host === s.host && l.count >= count)
          .sort((a, b) => a.lingerSeq - b.lingerSeq)[0];
        if (old !== undefined) {
          const b = this.maxBroken(pool, s, count, old);
          if (b !== undefined) {
            refusal ??= this.fail('POLICY_MAX', `Policy rule "${b.text}" is reached for ${s.user} on ${s.host}.`);
            continue;
          }
          this.drop(old);
          const l = this.newLease(pool, s, count, c.leaseTtlMs);
          this.serve(pool);
          return { ok: true, type: 'granted', lease: this.grant(l) };
        }
        const b = this.maxBroken(pool, s, count);
        if (b !== undefined) {
          refusal ??= this.fail('POLICY_MAX', `Policy rule "${b.text}" is reached for ${s.user} on ${s.host}.`);
          continue;
        }
        counted.push(pool);
        // Behind the waiters its priority puts it after.
        const queue = this.queueOf(pool);
        const slot = this.slot(pool, this.priority(pool, s));
        let blocked = false;
        const held = new Set<number>();
        for (const w of queue.slice(0, slot)) {
          const ws = this.session(w.sessionId) as RSession;
          if (this.passedOver(pool, ws, w.count)) continue;
          // Its seats are free for it but its own keys cannot serve it yet: it holds up no one.
          if (this.leasesOf(pool).length < this.limits.leasesPerPoolMax && this.servable(pool, ws, w.count, blocked, held) && !this.withinKeys(pool, w)) continue;
          blocked = true;
          for (const r of this.reservesOf(pool)) if (this.matches(r.rule, ws)) held.add(r.index);
        }
        if (this.servable(pool, s, count, blocked, held) && this.keySeats(pool, c.licenseIds) - this.seatsInUse(pool) >= count) {
          if (this.leasesOf(pool).length >= this.limits.leasesPerPoolMax) return this.fail('LEASES_PER_POOL_LIMIT_REACHED');
          return { ok: true, type: 'granted', lease: this.grant(this.newLease(pool, s, count, c.leaseTtlMs, blocked ? held : new Set())) };
        }
        continue;
      }
      if (!pool.users.includes(s.user)) {
        refusal ??= this.fail('NOT_AUTHORIZED_USER', `${s.user} is not a named user of ${c.feature}: an authorized-user license serves only the users an admin names (floe users set --feature ${c.feature} USER…, or PUT /api/v1/pools/${c.feature}/users).`);
        continue;
      }
      if (count !== 1) {
        refusal ??= this.fail('COUNT_INVALID');
        continue;
      }
      const hosts = new Set(this.leasesOf(pool).filter((l) => l.user === s.user).map((l) => l.host));
      if (hosts.size > 0 && !hosts.has(s.host) && hosts.size >= this.hostsMax(pool)) {
        if (refusal === undefined) {
          const n = this.hostsMax(pool);
          refusal = this.fail('HOSTS_PER_USER_REACHED', `${s.user} already holds the seat of ${c.feature} on ${n} other host${n === 1 ? '' : 's'}, the most the license allows; check it in there first.`);
        }
        continue;
      }
      if (hosts.size === 0 && this.keySeats(pool, c.licenseIds) - this.seatsInUse(pool) < 1) {
        refusal ??= this.fail('NO_SEATS');
        continue;
      }
      if (this.leasesOf(pool).length >= this.limits.leasesPerPoolMax) return this.fail('LEASES_PER_POOL_LIMIT_REACHED');
      return { ok: true, type: 'granted', lease: this.grant(this.newLease(pool, s, count, c.leaseTtlMs)) };
    }
    if (counted.length > 0) {
      const fitting = counted.find((p) => this.seatsCeiling(p) >= count);
      if (fitting === undefined) {
        const most = Math.max(...counted.map((p) => this.seatsCeiling(p)));
        return this.fail('COUNT_EXCEEDS_SEATS', `${c.feature}: this checkout asks ${count} of ${most} seats; no pool of it has more, so it could never be granted.`);
      }
      if (!c.wait) {
        const held = counted.reduce((n, p) => n + this.seatsInUse(p), 0);
        const total = counted.reduce((n, p) => n + this.seatsTotal(p), 0);
        const waiting = counted.reduce((n, p) => n + this.queueOf(p).length, 0);
        const others = counted.flatMap((p) => this.reservesOf(p).filter((r) => !this.matches(r.rule, s)).map((r) => ({ r, idle: this.idle(p, r) })));
        const n = others.reduce((k, o) => k + o.idle, 0);
        const by = [...new Set(others.filter((o) => o.idle > 0).map((o) => describeRule(o.r.rule)))];
        const reserved = n > 0 ? ` and ${n} more are reserved for others (${by.join('; ')})` : '';
        const served = counted.reduce((n, p) => n + this.keySeats(p, c.licenseIds), 0);
        const note = served < total ? `; this server serves ${served} of them (the keys that pass its lock codes)` : '';
        return this.fail('NO_SEATS', `No seat of ${c.feature} for this checkout of ${count}: ${held} of ${total} seats are held${reserved}${waiting > 0 ? ` and ${waiting} queued checkouts come first` : ''}${note}.`);
      }
      const mineQueued = this.waiters.filter((w) => w.sessionId === s.id).length;
      if (c.queuedPerSessionMax !== undefined && mineQueued >= c.queuedPerSessionMax) {
        return this.fail('QUEUED_PER_SESSION_LIMIT_REACHED', `This session already has ${mineQueued} checkouts queued, the most the server allows (queuedPerSessionMax ${c.queuedPerSessionMax}).`);
      }
      if (this.queueOf(fitting).length >= this.limits.queueLengthMax) return this.fail('QUEUE_FULL');
      const concurrent = fitting;
      const priority = this.priority(concurrent, s);
      const w: RWaiter = { requestId: c.requestId, key, sessionId: s.id, pool: concurrent.key, count, ttl: c.leaseTtlMs, priority, enqueuedAt: this.at, deadline: this.at + c.waitMs, licenseIds: c.licenseIds };
      this.waiterSeq.set(w, this.seq++);
      const queue = this.queueOf(concurrent);
      const slot = this.slot(concurrent, priority);
      const before = queue[slot];
      if (before === undefined) this.waiters.push(w);
      else this.waiters.splice(this.waiters.indexOf(before), 0, w);
      if (slot < queue.length) this.announce(concurrent, slot + 1);
      return this.queued(w);
    }
    return refusal ?? this.fail('VERSION_NOT_LICENSED');
  }

  /** Where a waiter of `priority` joins the pool's queue: behind every waiter of at least its priority. */
  private slot(pool: RPool, priority: number): number {
    const queue = this.queueOf(pool);
    let i = queue.length;
    while (i > 0 && (queue[i - 1] as RWaiter).priority < priority) i--;
    return i;
  }
}
