// A seeded generator of random pool commands over a small universe (two
// features, two versions, a handful of keys, sessions, clients, users and
// hosts), so that collisions, retries, queues, linger and capacity changes are
// frequent. For the pool's property tests; never for production.
import type { LicensePayload } from '../../protocol/license-payload.ts';
import { seededRandom } from '../../test/seeded-random.test-support.ts';
import type { FeatureSettings, Policy, PolicyRule, Who } from '../../protocol/policy.ts';
import type { PoolCommand } from './commands.ts';

/** Generates commands; `leaseIds()` supplies ids of live leases to aim checkin, renew and force at. */
export class CommandGenerator {
  at = 1_000_000;
  private random: () => number;
  /** Recent waiting checkouts, for checkout-cancel to aim at. */
  private readonly waits: [sessionId: string, requestId: string][] = [];
  /** Recent checkouts and checkins, re-sent unchanged as retries (the same request) now and then. */
  private readonly sent: PoolCommand[] = [];
  constructor(
    seed: number,
    private readonly leaseIds: () => readonly string[],
  ) {
    this.random = seededRandom(seed);
  }

  /**
   * Draws from `seed` from now on, keeping what the generator remembers
   * (time, recent requests, waits). fc.modelRun gives each command its own
   * seed, so dropping a command while shrinking leaves the others' draws.
   */
  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  private int(n: number): number {
    return Math.floor(this.random() * n);
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  private chance(p: number): boolean {
    return this.random() < p;
  }

  private license(): LicensePayload {
    const bundle = this.chance(0.2);
    const notBefore = this.chance(0.2) ? this.at + this.int(5_000) : Math.max(0, this.at - 1_000);
    const licenseId = `K${this.int(6)}`;
    const supersedes = this.chance(0.2) ? `K${this.int(6)}` : licenseId;
    const p: LicensePayload = {
      v: 1,
      licenseId,
      authCode: 'A',
      vendorKeyId: 'V',
      product: bundle ? 'suite' : this.pick(['cad', 'cam']),
      version: this.pick(['1', '2']),
      model: this.chance(0.15) ? 'authorized-user' : 'concurrent',
      seats: 1 + this.int(3),
      components: bundle ? ['cad', 'cam'] : [],
      issuedAt: 0,
      notBefore,
      lockCodes: ['X'],
      lingerSeconds: this.chance(0.6) ? 0 : 1 + this.int(3),
      hostsPerUserMax: 1 + this.int(2),
      // A rehost, a renewal or added seats: a key that names the one it replaces.
      ...(supersedes === licenseId ? {} : { supersedes }),
      ...(this.chance(0.5) ? { borrowAllowed: true, ...(this.chance(0.5) ? { borrowHoursMax: 1 + this.int(2) } : {}) } : {}),
    };
    if (this.chance(0.3)) return { ...p, expiresAt: notBefore + 1_000 + this.int(20_000) };
    return p;
  }

  /** A principal of the small universe, names in either case. */
  private who(groups: readonly string[], hostGroups: readonly string[]): Who {
    const k = this.int(groups.length > 0 ? 7 : 5);
    const cased = (n: string) => (this.chance(0.3) ? n.toUpperCase() : n);
    if (k === 0) return { type: 'user', name: cased(`u${this.int(3)}`) };
    if (k === 1) return { type: 'host', name: cased(`h${this.int(2)}`) };
    if (k === 2) return { type: 'app', name: cased(this.pick(['app', 'viewer'])) };
    if (k === 3) return { type: 'ip', name: this.pick(['10.0.0.0/24', '10.0.*.*', '192.168.1.5', '::1']) };
    if (k === 4 && hostGroups.length > 0) return { type: 'host-group', name: cased(this.pick(hostGroups)) };
    if (k === 4) return { type: 'user', name: `u${this.int(3)}` };
    return { type: 'group', name: cased(this.pick(groups)) };
  }

  /** A random policy over the small universe: groups, a few rules of every kind, some settings. */
  policy(): Policy {
    const users = ['u0', 'u1', 'u2'];
    const groups: [string, string[]][] = [];
    for (let g = 0; g < this.int(3); g++) groups.push([`g${g}`, users.filter(() => this.chance(0.5))]);
    const hostGroups: [string, string[]][] = this.chance(0.4) ? [['lab', ['h0', ...(this.chance(0.5) ? ['10.0.1.0/24'] : [])]]] : [];
    const rules: PolicyRule[] = [];
    const n = this.int(8);
    for (let i = 0; i < n; i++) {
      const feature = this.pick(['cad', 'cam', 'cad', '*']);
      const version = feature !== '*' && this.chance(0.25) ? { version: this.pick(['1', '2']) } : {};
      const who = this.who(groups.map(([g]) => g), hostGroups.map(([g]) => g));
      const line = i + 1;
      const k = this.int(10);
      if (k < 2) rules.push({ kind: this.chance(0.6) ? 'exclude' : 'include', scope: this.chance(0.8) ? 'use' : 'borrow', feature, ...version, line, who });
      else if (k < 5 && feature !== '*') rules.push({ kind: 'reserve', count: 1 + this.int(2), feature, ...version, line, who });
      else if (k < 8) {
        // A max naming one user beside a max per user is the precedence case worth hitting often.
        const named: Who = this.chance(0.5) ? { type: 'user', name: `u${this.int(3)}` } : who;
        const each = this.chance(0.4) ? { each: this.pick(['user', 'host', 'group'] as const) } : { who: named };
        rules.push({ kind: 'max', count: this.int(3), feature, ...version, line, ...each });
      } else rules.push({ kind: 'priority', level: 1 + this.int(3), feature, ...version, line, who });
    }
    const features: FeatureSettings[] = [];
    if (this.chance(0.4)) {
      const feature = this.pick(['cad', 'cam', '*']);
      features.push({
        feature,
        line: n + 1,
        ...(this.chance(0.5) ? { leaseTtlSecondsMax: 1 + this.int(5) } : {}),
        ...(this.chance(0.3) ? { leaseTtlSecondsMin: 1 + this.int(8) } : {}),
        ...(this.chance(0.5) ? { lingerSecondsMax: this.int(2) } : {}),
        ...(this.chance(0.3) ? { borrowHoursMax: this.int(2) } : {}),
        ...(this.chance(0.3) ? { borrowLowWater: this.int(3) } : {}),
        ...(this.chance(0.3) ? { borrowSharePercentMax: this.pick([0, 34, 50, 100]) } : {}),
      });
    }
    return { caseSensitive: this.chance(0.2), groups, hostGroups, rules, features };
  }

  private leaseId(): string {
    const ids = this.leaseIds();
    return ids.length > 0 && this.chance(0.9) ? this.pick(ids) : `L${this.int(100_000)}`;
  }

  /** `ms`: how far the leader's date runs from `at` now (a clock excursion); 0 most of the time. */
  private dateOffsetMs = 0;

  next(): PoolCommand {
    const c = this.dated(this.draw());
    if (c.type === 'checkout' || c.type === 'checkin') {
      this.sent.push(c);
      if (this.sent.length > 8) this.sent.shift();
    }
    return c;
  }

  /** `c` with a date when the leader's clock is off: excursions come and go, and the date moves back when they end. */
  private dated(c: PoolCommand): PoolCommand {
    if (this.chance(0.03)) this.dateOffsetMs = this.chance(0.5) ? 0 : this.int(40_000) - 20_000;
    return this.dateOffsetMs === 0 ? c : { ...c, dateMs: c.at + this.dateOffsetMs };
  }

  private draw(): PoolCommand {
    this.at = this.chance(0.02) ? this.at - this.int(2_000) : this.at + this.int(300);
    const at = this.at;
    // A retry: the same request again (maybe from another session of the client), at a later time.
    if (this.sent.length > 0 && this.chance(0.08)) return { ...this.pick(this.sent), at };
    const sessionId = `S${this.int(6)}`;
    const requestId = `q${this.int(40)}`;
    const r = this.int(110);
    if (r < 30) {
      const wait = this.chance(0.5);
      if (wait) {
        this.waits.push([sessionId, requestId]);
        if (this.waits.length > 8) this.waits.shift();
      }
      const version = this.chance(0.3) ? undefined : this.pick(['1', '2', '3']);
      return {
        type: 'checkout', at, sessionId, requestId, feature: this.pick(['cad', 'cam', 'cad', 'nope']),
        ...(version === undefined ? {} : { version }),
        // Now and then more seats than any pool has (2 keys of at most 3 seats).
        count: this.chance(0.05) ? 0 : this.chance(0.05) ? 4 + this.int(6) : 1 + (this.chance(0.2) ? this.int(3) : 0),
        wait, leaseTtlMs: 1_000 + this.int(8_000), waitMs: this.int(6_000),
        ...(this.chance(0.5) ? { queuedPerSessionMax: this.int(3) } : {}),
        // A node that serves only the keys passing its lock rule names them.
        ...(this.chance(0.4) ? { licenseIds: Array.from({ length: this.int(3) }, () => `K${this.int(6)}`) } : {}),
      };
    }
    if (r < 45) return { type: 'checkin', at, sessionId, requestId, leaseId: this.leaseId() };
    if (r < 55) {
      const leaseIds = Array.from({ length: this.int(3) }, () => this.leaseId());
      const sessionIds = Array.from({ length: this.int(3) }, () => `S${this.int(6)}`);
      return { type: 'renew', at, leaseIds, sessionIds, leaseTtlMs: 1_000 + this.int(5_000) };
    }
    if (r < 65) return { type: 'expire', at };
    if (r < 73) {
      const c = this.int(4);
      const secret = this.chance(0.5) ? { secretSha256: `hash${this.int(100)}` } : {};
      const ip = this.pick(['', '10.0.0.7', '10.0.1.9', '192.168.1.5', '::ffff:10.0.0.8']);
      return { type: 'session-open', at, sessionId, clientId: `c${c}`, user: `u${this.int(3)}`, host: `h${this.int(2)}`, app: this.pick(['app', 'app', 'Viewer']), ...(ip === '' ? {} : { ip }), sessionTtlMs: 5_000 + this.int(15_000), ...secret };
    }
    if (r < 76) return { type: 'session-close', at, sessionId };
    if (r < 79) {
      const [s, q] = this.waits.length > 0 && this.chance(0.8) ? this.pick(this.waits) : [sessionId, requestId];
      return { type: 'checkout-cancel', at, sessionId: s, requestId: q };
    }
    if (r < 84) return { type: 'license-install', at, license: this.license(), ...(this.chance(0.3) ? { from: 'license-file' as const } : {}) };
    if (r < 87) return { type: 'license-remove', at, licenseId: `K${this.int(6)}` };
    if (r < 89) return { type: 'force-checkin', at, leaseId: this.leaseId(), reason: 'test' };
    if (r < 94) {
      const users = Array.from({ length: this.int(4) }, () => `u${this.int(3)}`);
      return { type: 'users-assign', at, feature: this.pick(['cad', 'cam']), version: this.pick(['1', '2']), users };
    }
    if (r < 96) return { type: 'pool-configure', at, feature: this.pick(['cad', 'cam']), version: this.pick(['1', '2']), lingerMsMax: this.int(4_000) };
    if (r < 97) return { type: 'grace', at, graceMs: this.int(5_000) };
    if (r < 100) return { type: 'expire', at: at + this.int(10_000) };
    if (r < 105) {
      const version = this.chance(0.5) ? {} : { version: this.pick(['1', '2']) };
      const durationMs = this.chance(0.8) ? 1_000 + this.int(20_000) : 3_600_000 + this.int(4_000_000);
      return { type: 'borrow', at, sessionId, requestId, feature: this.pick(['cad', 'cam', 'nope']), ...version, durationMs, fingerprint: this.chance(0.03) ? '' : `fp${this.int(3)}`,
        // A node that serves only the keys passing its lock rule names them, as for a checkout.
        ...(this.chance(0.4) ? { licenseIds: Array.from({ length: this.int(3) }, () => `K${this.int(6)}`) } : {}),
      };
    }
    if (r < 108) return { type: 'return', at, clientId: `c${this.int(4)}`, requestId, leaseId: this.leaseId() };
    if (r < 109) {
      const k = this.int(3);
      return { type: 'borrow-key-set', at, publicKey: `${'P'.repeat(42)}${k}`, secretKey: this.chance(0.1) ? 'short' : `${'S'.repeat(42)}${k}` };
    }
    return {
      type: 'policy-set',
      at,
      policy: this.policy(),
      format: 'floe',
      text: '',
      ...(this.chance(0.2) ? { expectedVersion: this.int(3) } : {}),
      revokeViolating: this.chance(0.3),
    };
  }
}
