import { describe, expect, it } from 'vitest';
import { listPools } from './queries.ts';
import { code, Harness, T0 } from './harness.test-support.ts';

describe('finding 2 (issue 11): queues that cannot be filled are refused', () => {
  it('a waiting checkout of more seats than the pool has is refused at once with the truth, never queued, and blocks nobody', () => {
    const h = new Harness();
    h.install({ seats: 25 });
    h.open('hog');
    h.open('s');
    const r = h.checkout('hog', { count: 1000, wait: true, waitMs: 86_400_000 });
    expect(r).toMatchObject({ ok: false, code: 'COUNT_EXCEEDS_SEATS' });
    expect(r.ok ? '' : r.message).toContain('asks 1000 of 25 seats');
    expect(listPools(h.state)[0]).toMatchObject({ seatsInUse: 0, queued: 0 });
    expect(code(h.checkout('s'))).toBe('granted');
  });

  it('keys not yet in force count toward what could ever be granted; ended keys do not', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1', seats: 2 });
    h.install({ licenseId: 'K2', seats: 3, notBefore: T0 + 5_000 });
    h.install({ licenseId: 'K3', seats: 10, expiresAt: T0 + 1 });
    h.open('s');
    h.at = T0 + 1;
    expect(h.checkout('s', { count: 5, wait: true })).toMatchObject({ ok: true, type: 'queued' });
    expect(code(h.checkout('s', { count: 6, wait: true }))).toBe('COUNT_EXCEEDS_SEATS');
    h.at = T0 + 5_000;
    h.expire();
    expect(h.events('granted')).toHaveLength(1);
  });

  it('a checkout queues in the lowest version whose pool could grant it, not behind one that never could', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1', version: '29', seats: 1 });
    h.install({ licenseId: 'K2', version: '30', seats: 3 });
    h.open('a');
    h.lease('a', { count: 3 });
    h.open('s');
    expect(h.checkout('s', { count: 2, wait: true })).toMatchObject({ type: 'queued', version: '30', position: 1 });
    expect(h.checkout('s', { count: 1, wait: true })).toMatchObject({ type: 'granted' });
  });

  it('waiters left asking more than a shrunk pool could ever have leave the queue (seats-reduced), and those behind are served', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1', seats: 2 });
    h.install({ licenseId: 'K2', seats: 3 });
    h.open('a');
    const held = h.lease('a', { count: 2 });
    h.open('big');
    h.open('small');
    expect(h.checkout('big', { count: 5, wait: true, requestId: 'q-big' })).toMatchObject({ type: 'queued', position: 1 });
    expect(h.checkout('small', { count: 1, wait: true, requestId: 'q-small' })).toMatchObject({ type: 'queued', position: 2 });
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K2' });
    expect(h.events('dequeued')).toMatchObject([{ requestId: 'q-big', reason: 'seats-reduced' }]);
    h.checkin('a', held.leaseId);
    expect(h.events('granted')).toMatchObject([{ requestId: 'q-small' }]);
  });

  it('a session may hold at most queuedPerSessionMax queue places; NO_SEATS says what is held and what waits', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('a');
    h.lease('a');
    h.open('s');
    expect(code(h.checkout('s', { wait: true, queuedPerSessionMax: 2 }))).toBe('queued');
    expect(code(h.checkout('s', { wait: true, queuedPerSessionMax: 2 }))).toBe('queued');
    const third = h.checkout('s', { wait: true, queuedPerSessionMax: 2 });
    expect(third).toMatchObject({ ok: false, code: 'QUEUED_PER_SESSION_LIMIT_REACHED' });
    const noSeats = h.checkout('a', { wait: false });
    expect(noSeats.ok ? '' : noSeats.message).toBe('No seat of cad for this checkout of 1: 1 of 1 seats are held and 2 queued checkouts come first.');
  });
});
