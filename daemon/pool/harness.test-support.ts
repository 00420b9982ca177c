// A test harness for the seat pool's rule tests (apply.test.ts, expire.test.ts):
// applies commands with consecutive log indexes and checks, after each, every
// invariant and that the state survives a snapshot round trip byte for byte.
// Not a test file itself, so it imports no test framework and stays pure.
import type { LicensePayload } from '../../protocol/license-payload.ts';
import { parsePolicy } from '../../protocol/parse-policy.ts';
import type { PolicyFormat } from '../../protocol/policy.ts';
import { apply } from './apply.ts';
import type { CheckoutCommand, PoolCommand } from './commands.ts';
import { checkInvariants } from './invariants.ts';
import type { PoolLimits } from './limits.ts';
import { createPoolState, type PoolState } from './pool-state.ts';
import { listPools } from './queries.ts';
import type { ApplyResult, LeaseGrant, PoolEvent, PoolReply } from './results.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';

function check(bad: string[], when: string): void {
  if (bad.length > 0) throw new Error(`pool invariants broken ${when}: ${bad.join('; ')}`);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `ms`: the time every harness starts at. */
export const T0 = 1_000_000;

/** A concurrent two-seat key of cad 29, with `over` applied. */
export function key(over: Partial<LicensePayload> = {}): LicensePayload {
  return {
    v: 1,
    licenseId: 'K1',
    authCode: 'A1',
    vendorKeyId: 'V',
    product: 'cad',
    version: '29',
    model: 'concurrent',
    seats: 2,
    components: [],
    issuedAt: 0,
    notBefore: 0,
    lockCodes: ['X'],
    lingerSeconds: 0,
    hostsPerUserMax: 1,
    ...over,
  };
}

/**
 * Applies commands with consecutive indexes, checking every invariant and the
 * snapshot round trip after each (throwing when one fails).
 */
export class Harness {
  state: PoolState;
  index = 0;
  at = T0;
  last: ApplyResult | undefined;
  private rid = 0;
  constructor(limits: Partial<PoolLimits> = {}) {
    this.state = createPoolState(limits);
  }
  run(c: PoolCommand): PoolReply {
    const r = apply(this.state, c, ++this.index);
    check(checkInvariants(this.state), `after ${c.type}`);
    const bytes = encodeSnapshot(this.state);
    const copy = decodeSnapshot(bytes);
    check(checkInvariants(copy), `after a snapshot round trip following ${c.type}`);
    if (!bytesEqual(encodeSnapshot(copy), bytes)) throw new Error(`a decoded snapshot encodes differently after ${c.type}`);
    this.last = r;
    return r.reply;
  }
  events(kind?: PoolEvent['kind']): PoolEvent[] {
    return (this.last?.events ?? []).filter((e) => kind === undefined || e.kind === kind);
  }
  install(over: Partial<LicensePayload> = {}): PoolReply {
    return this.run({ type: 'license-install', at: this.at, license: key(over) });
  }
  open(sessionId: string, user = sessionId, host = `${sessionId}-host`, clientId = `c-${sessionId}`, app = 'app', ip = ''): void {
    const r = this.run({ type: 'session-open', at: this.at, sessionId, clientId, user, host, app, ...(ip === '' ? {} : { ip }), sessionTtlMs: 60_000 });
    if (!r.ok) throw new Error(`session-open ${sessionId}: ${r.code}`);
  }
  checkout(sessionId: string, over: Partial<CheckoutCommand> = {}): PoolReply {
    return this.run({
      type: 'checkout',
      at: this.at,
      sessionId,
      requestId: `r${++this.rid}`,
      feature: 'cad',
      count: 1,
      wait: false,
      leaseTtlMs: 30_000,
      waitMs: 10_000,
      ...over,
    });
  }
  lease(sessionId: string, over: Partial<CheckoutCommand> = {}): LeaseGrant {
    const r = this.checkout(sessionId, over);
    if (!r.ok || r.type !== 'granted') throw new Error(`expected a grant, got ${JSON.stringify(r)}`);
    return r.lease;
  }
  checkin(sessionId: string, leaseId: string, requestId = `r${++this.rid}`): PoolReply {
    return this.run({ type: 'checkin', at: this.at, sessionId, requestId, leaseId });
  }
  /** Parses `text` (throwing on errors) and sets it as the policy. */
  policy(text: string, format: PolicyFormat = 'floe', over: { revokeViolating?: boolean; expectedVersion?: number } = {}): PoolReply {
    const parsed = parsePolicy(format, text);
    if (!parsed.ok) throw new Error(`policy does not parse: ${JSON.stringify(parsed.errors)}`);
    return this.run({ type: 'policy-set', at: this.at, policy: parsed.policy, format, text, revokeViolating: over.revokeViolating ?? false, ...(over.expectedVersion !== undefined ? { expectedVersion: over.expectedVersion } : {}) });
  }
  expire(): PoolReply {
    return this.run({ type: 'expire', at: this.at });
  }
  inUse(feature = 'cad'): number {
    return listPools(this.state)
      .filter((p) => p.feature === feature)
      .reduce((n, p) => n + p.seatsInUse, 0);
  }
}

/** The reply's type, or its error code. */
export function code(r: PoolReply): string {
  return r.ok ? r.type : r.code;
}
