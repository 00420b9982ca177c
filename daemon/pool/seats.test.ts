// The preconditions of the seat mechanics are asserted: a caller that breaks
// one crashes its test at once instead of miscounting seats silently.
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import type { PoolCommand } from './commands.ts';
import { createPoolState, type Lease, type PoolState } from './pool-state.ts';
import { checkinLease, grantLease, releaseLease, type Step } from './seats.ts';

const AT = 1_000_000;

function poolWithOneLease(lingerSeconds: number): { state: PoolState; lease: Lease; step: Step } {
  const state = createPoolState();
  const commands: PoolCommand[] = [
    {
      type: 'license-install',
      at: AT,
      license: {
        v: 1, licenseId: 'K1', authCode: 'A', vendorKeyId: 'V', product: 'cad', version: '29', model: 'concurrent',
        seats: 2, components: [], issuedAt: 0, notBefore: 0, lockCodes: ['X'], lingerSeconds, hostsPerUserMax: 1,
      },
    },
    { type: 'session-open', at: AT, sessionId: 's', clientId: 'c', user: 'u', host: 'h', app: '', sessionTtlMs: 60_000 },
    { type: 'checkout', at: AT, sessionId: 's', requestId: 'r1', feature: 'cad', count: 1, wait: false, leaseTtlMs: 30_000, waitMs: 0 },
  ];
  const replies = commands.map((c, i) => apply(state, c, i + 1).reply);
  const granted = replies[2];
  if (granted?.ok !== true || granted.type !== 'granted') throw new Error(`checkout not granted: ${JSON.stringify(granted)}`);
  const lease = state.leases.get(granted.lease.leaseId) as Lease;
  expect(lease).toBeDefined();
  return { state, lease, step: { state, at: AT + 1, index: 4, events: [] } };
}

describe('seat mechanics asserts', () => {
  it('releasing a lease twice throws instead of freeing its seats twice', () => {
    const { state, lease } = poolWithOneLease(0);
    releaseLease(state, lease);
    expect(lease.pool.seatsInUse).toBe(0);
    expect(() => releaseLease(state, lease)).toThrow(/^assert: /);
  });

  it('checking in a lease that already lingers throws instead of lingering it twice', () => {
    const { lease, step } = poolWithOneLease(60);
    checkinLease(step, lease);
    expect(lease.lingerSeq).toBeGreaterThan(0);
    expect(() => checkinLease(step, lease)).toThrow(/^assert: checkinLease of a lease already checked in/);
  });

  it('granting zero seats, or to a session that is not open, throws', () => {
    const { state, lease, step } = poolWithOneLease(0);
    const session = state.sessions.get('s');
    expect(session).toBeDefined();
    if (session === undefined) return;
    expect(() => grantLease(step, lease.pool, session, 0, 30_000)).toThrow(/^assert: grantLease of a count/);
    apply(state, { type: 'session-close', at: AT + 2, sessionId: 's' }, 5);
    expect(() => grantLease(step, lease.pool, session, 1, 30_000)).toThrow(/^assert: grantLease to a session that is not open/);
  });
});
