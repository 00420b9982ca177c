// The expire rules: what falls due when, and what a user then notices — a
// queued checkout that gives up, a lease revoked as expired, a session closing
// itself, a lingering seat freed, a new leader's grace period.
import { describe, expect, it } from 'vitest';
import { listLeases, listSessions, nextDeadlineMs } from './queries.ts';
import { code, Harness, T0 } from './harness.test-support.ts';

describe('expire', () => {
  it('a waiter times out at the end of its wait', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('a');
    h.open('b');
    h.lease('a');
    h.checkout('b', { wait: true, waitMs: 500 });
    expect(nextDeadlineMs(h.state)).toBe(T0 + 500);
    h.at += 500;
    expect(h.expire()).toMatchObject({ type: 'expired', waiterCount: 1 });
    expect(h.events('dequeued')).toMatchObject([{ clientId: 'c-b', reason: 'wait-timeout' }]);
    expect(h.events('usage')).toMatchObject([{ usage: 'queue-wait', waitedMs: 500 }]);
  });

  it('expire revokes every lease whose deadline has passed, and frees its seat', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('s');
    const l = h.lease('s', { leaseTtlMs: 1_000 });
    h.at += 999;
    expect(h.expire()).toMatchObject({ leaseCount: 0 });
    h.at += 1;
    expect(h.expire()).toMatchObject({ leaseCount: 1 });
    expect(h.events('revoked')).toMatchObject([{ leaseId: l.leaseId, reason: 'lease-expired' }]);
    expect(h.inUse()).toBe(0);
  });

  it('renew by lease id or by session pushes the deadline out', () => {
    const h = new Harness();
    h.install({ seats: 2 });
    h.open('s');
    const a = h.lease('s', { leaseTtlMs: 1_000 });
    h.at += 500;
    expect(h.run({ type: 'renew', at: h.at, leaseIds: [a.leaseId, 'nope'], sessionIds: ['s', 'gone'], leaseTtlMs: 1_000 })).toMatchObject({
      leaseCount: 2,
      expiresAt: T0 + 1_500,
      unknownLeaseIds: ['nope'],
      unknownSessionIds: ['gone'],
    });
    h.at = T0 + 1_000;
    expect(h.expire()).toMatchObject({ leaseCount: 0 });
    expect(listLeases(h.state)[0]?.expiresAt).toBe(T0 + 1_500);
  });

  it('a session not renewed closes itself', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('s');
    h.lease('s', { leaseTtlMs: 1_000 });
    h.at += 1_000;
    expect(h.expire()).toMatchObject({ leaseCount: 1, sessionCount: 0 });
    h.at = T0 + 60_000;
    expect(h.expire()).toMatchObject({ sessionCount: 1 });
    expect(listSessions(h.state)).toEqual([]);
  });

  it('a client that stops heartbeating has its lease revoked as expired, and the usage row says expiry', () => {
    const h = new Harness();
    h.install({ seats: 1, lingerSeconds: 10 });
    h.open('s');
    h.open('b');
    const l = h.lease('s');
    h.at = T0 + 20_000;
    // The last heartbeat: session and lease now fall due together, at T0 + 70 s.
    h.run({ type: 'renew', at: h.at, leaseIds: [], sessionIds: ['s'], leaseTtlMs: 50_000 });
    h.run({ type: 'renew', at: h.at, leaseIds: [], sessionIds: ['b'], leaseTtlMs: 80_000 });
    h.at = T0 + 70_000;
    expect(h.expire()).toMatchObject({ leaseCount: 1, sessionCount: 1, lingerCount: 0 });
    expect(h.events('revoked')).toMatchObject([{ leaseId: l.leaseId, clientId: 'c-s', sessionId: 's', reason: 'lease-expired' }]);
    expect(h.events('usage')).toMatchObject([{ usage: 'expiry', leaseId: l.leaseId, clientId: 'c-s' }]);
    // Nobody checked the seat in, so it does not linger: the next user gets it.
    expect(h.inUse()).toBe(0);
    expect(code(h.checkout('b'))).toBe('granted');
  });

  it('a session falling due loses its queued checkouts before any seat freed at that instant is granted', () => {
    const h = new Harness();
    h.install({ seats: 1, lingerSeconds: 10 });
    h.open('holder');
    h.open('dead');
    h.open('live');
    const held = h.lease('holder');
    h.checkout('dead', { wait: true, requestId: 'rd', waitMs: 90_000 });
    h.checkout('live', { wait: true, requestId: 'rl', waitMs: 90_000 });
    h.at = T0 + 20_000;
    // The holder and the first waiter both stop heartbeating; both fall due at T0 + 70 s.
    h.run({ type: 'renew', at: h.at, leaseIds: [], sessionIds: ['holder', 'dead'], leaseTtlMs: 50_000 });
    h.run({ type: 'renew', at: h.at, leaseIds: [], sessionIds: ['live'], leaseTtlMs: 80_000 });
    h.at = T0 + 70_000;
    expect(h.expire()).toMatchObject({ leaseCount: 1, sessionCount: 2 });
    const kinds = h.events().map((e) => e.kind);
    expect(h.events('dequeued')).toMatchObject([{ clientId: 'c-dead', requestId: 'rd', reason: 'session-closed' }]);
    expect(h.events('revoked')).toMatchObject([{ leaseId: held.leaseId, reason: 'lease-expired' }]);
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-live', requestId: 'rl' }]);
    expect(kinds.indexOf('dequeued')).toBeLessThan(kinds.indexOf('granted'));
    // The dead session never held the seat: no checkout or checkin row for it, nothing lingering.
    expect(h.events('usage').filter((e) => e.kind === 'usage' && e.clientId === 'c-dead').map((e) => (e.kind === 'usage' ? e.usage : ''))).toEqual(['queue-wait']);
    expect(listLeases(h.state)).toMatchObject([{ clientId: 'c-live', lingering: false }]);
  });

  it('a lingering seat of a session that falls due is freed, not re-lingered', () => {
    const h = new Harness();
    h.install({ seats: 2, lingerSeconds: 10 });
    h.open('s');
    const checkedIn = h.lease('s');
    const held = h.lease('s');
    h.at = T0 + 20_000;
    h.run({ type: 'renew', at: h.at, leaseIds: [], sessionIds: ['s'], leaseTtlMs: 50_000 });
    h.at = T0 + 60_000;
    // Lingers until T0 + 70 s, when the session and its other lease fall due.
    expect(h.checkin('s', checkedIn.leaseId)).toMatchObject({ lingerUntilMs: T0 + 70_000 });
    h.at = T0 + 70_000;
    expect(h.expire()).toMatchObject({ lingerCount: 1, leaseCount: 1, sessionCount: 1 });
    expect(h.events('usage')).toMatchObject([{ usage: 'expiry', leaseId: held.leaseId }]);
    expect(listLeases(h.state)).toEqual([]);
    expect(h.inUse()).toBe(0);
    expect(nextDeadlineMs(h.state)).toBe(Number.POSITIVE_INFINITY);
  });

  it('a grace period keeps every lease alive until at least its end', () => {
    const h = new Harness();
    h.install();
    h.open('s');
    h.lease('s', { leaseTtlMs: 1_000 });
    h.run({ type: 'grace', at: h.at, graceMs: 90_000 });
    h.at += 60_000;
    expect(h.expire()).toMatchObject({ leaseCount: 0, sessionCount: 0 });
    h.at += 30_000;
    expect(h.expire()).toMatchObject({ sessionCount: 1 });
  });

  it('a client that crashes before its first heartbeat has its lease revoked as expired, not checked in', () => {
    const h = new Harness();
    h.install({ seats: 1, lingerSeconds: 10 });
    h.open('s');
    h.open('b');
    h.run({ type: 'renew', at: h.at, leaseIds: [], sessionIds: ['b'], leaseTtlMs: 600_000 });
    // The checkout comes a little after the session opened, with the same ttl: the lease would outlive its session.
    h.at = T0 + 1_000;
    const l = h.lease('s', { leaseTtlMs: 60_000 });
    // No heartbeat ever comes; the reaper proposes expire at each next deadline.
    const usage: string[] = [];
    while (listSessions(h.state).some((s) => s.sessionId === 's')) {
      h.at = nextDeadlineMs(h.state);
      h.expire();
      for (const e of h.events()) if (e.kind === 'usage' && e.leaseId === l.leaseId) usage.push(e.usage);
      if (h.events('revoked').length > 0) expect(h.events('revoked')).toMatchObject([{ leaseId: l.leaseId, reason: 'lease-expired' }]);
    }
    expect(h.at).toBe(T0 + 61_000);
    expect(usage).toEqual(['expiry']);
    // Nobody checked the seat in, so it does not linger: the next user gets it.
    expect(h.inUse()).toBe(0);
    expect(code(h.checkout('b'))).toBe('granted');
  });
});
