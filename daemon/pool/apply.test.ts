import { describe, expect, it } from 'vitest';
import { listLeases, listPools, nextDeadlineMs, queuePosition } from './queries.ts';
import { encodeSnapshot } from './snapshot.ts';
import type { PoolReply } from './results.ts';
import { code, Harness, T0 } from './harness.test-support.ts';

describe('licenses', () => {
  it('checkout() answers UNKNOWN_FEATURE when no key grants the feature', () => {
    const h = new Harness();
    h.open('s');
    expect(code(h.checkout('s'))).toBe('UNKNOWN_FEATURE');
  });

  it('several keys for the same pool add up their seats', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1', seats: 2 });
    h.install({ licenseId: 'K2', seats: 3 });
    expect(listPools(h.state)).toMatchObject([{ feature: 'cad', version: '29', seatsTotal: 5 }]);
  });

  it('a bundle key puts seats in a pool for each component', () => {
    const h = new Harness();
    h.install({ product: 'suite', components: ['cad', 'cam'] });
    expect(listPools(h.state).map((p) => p.feature)).toEqual(['cad', 'cam']);
  });

  it('a key whose not-before lies ahead adds seats only from then', () => {
    const h = new Harness();
    h.install({ notBefore: T0 + 5_000 });
    h.open('s');
    expect(code(h.checkout('s'))).toBe('NO_SEATS');
    expect(nextDeadlineMs(h.state)).toBe(T0 + 5_000);
    h.at = T0 + 5_000;
    expect(code(h.checkout('s'))).toBe('granted');
  });

  it('a temporary key\'s seats leave the pool at its end date, revoking the newest leases', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1', seats: 1 });
    h.install({ licenseId: 'K2', seats: 1, expiresAt: T0 + 1_000 });
    h.open('a');
    h.open('b');
    const older = h.lease('a');
    h.at += 1;
    const newer = h.lease('b');
    h.at = T0 + 1_000;
    h.expire();
    expect(h.events('revoked')).toMatchObject([{ leaseId: newer.leaseId, reason: 'license-expired', clientId: 'c-b' }]);
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual([older.leaseId]);
  });

  it('removing a key revokes the newest leases beyond the remaining capacity', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1', seats: 1 });
    h.install({ licenseId: 'K2', seats: 2 });
    h.open('a');
    const l1 = h.lease('a');
    const l2 = h.lease('a');
    const l3 = h.lease('a');
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K2' });
    expect(h.events('revoked').map((e) => (e.kind === 'revoked' ? [e.leaseId, e.reason] : []))).toEqual([
      [l3.leaseId, 'license-removed'],
      [l2.leaseId, 'license-removed'],
    ]);
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual([l1.leaseId]);
  });

  it('removing the last key of a pool removes the pool and ends its queue', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('a');
    h.lease('a');
    h.checkout('a', { wait: true });
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K1' });
    expect(listPools(h.state)).toEqual([]);
    expect(h.events('dequeued')).toMatchObject([{ reason: 'pool-removed' }]);
  });

  it('license-install refuses a key that mixes licensing models in one pool', () => {
    const h = new Harness();
    h.install();
    expect(code(h.install({ licenseId: 'K2', model: 'authorized-user' }))).toBe('MODEL_CONFLICT');
  });

  it('license-install refuses a key that already ended and a key installed twice', () => {
    const h = new Harness();
    expect(code(h.install({ expiresAt: T0 }))).toBe('LICENSE_EXPIRED');
    h.install();
    expect(code(h.install())).toBe('LICENSE_EXISTS');
  });
});

describe('checkout and checkin', () => {
  it('checkout() grants a lease whose fencing token is the log index of the grant', () => {
    const h = new Harness();
    h.install();
    h.open('s');
    const lease = h.lease('s');
    expect(lease).toMatchObject({ feature: 'cad', version: '29', count: 1, expiresAt: T0 + 30_000, fencingToken: h.index });
    expect(h.events('usage')).toMatchObject([{ usage: 'checkout', leaseId: lease.leaseId }]);
  });

  it('checkout() answers NO_SEATS when the pool is exhausted', () => {
    const h = new Harness();
    h.install({ seats: 2 });
    h.open('s');
    h.lease('s', { count: 2 });
    expect(code(h.checkout('s'))).toBe('NO_SEATS');
    expect(h.events('usage')).toMatchObject([{ usage: 'denial', code: 'NO_SEATS' }]);
  });

  it('a client asking for version 29 may use a version 30 seat, the lowest version first', () => {
    const h = new Harness();
    h.install({ licenseId: 'K29', version: '29', seats: 1 });
    h.install({ licenseId: 'K30', version: '30', seats: 1 });
    h.open('s');
    expect(h.lease('s', { version: '29' }).version).toBe('29');
    expect(h.lease('s', { version: '29' }).version).toBe('30');
    expect(code(h.checkout('s', { version: '31' }))).toBe('VERSION_NOT_LICENSED');
  });

  it('a version 30 client may not use a version 29 seat', () => {
    const h = new Harness();
    h.install({ version: '29' });
    h.open('s');
    expect(code(h.checkout('s', { version: '30' }))).toBe('VERSION_NOT_LICENSED');
  });

  it('checkin frees the seat for the next checkout', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('s');
    const l = h.lease('s');
    expect(h.checkin('s', l.leaseId)).toMatchObject({ ok: true, type: 'checked-in', lingerUntilMs: h.at });
    expect(h.inUse()).toBe(0);
    expect(code(h.checkin('s', l.leaseId))).toBe('LEASE_NOT_FOUND');
  });

  it('checkout() answers COUNT_INVALID for a count below one', () => {
    const h = new Harness();
    h.install();
    h.open('s');
    expect(code(h.checkout('s', { count: 0 }))).toBe('COUNT_INVALID');
  });

  it('checkout() answers SESSION_NOT_FOUND for an unknown session', () => {
    const h = new Harness();
    h.install();
    expect(code(h.checkout('nobody'))).toBe('SESSION_NOT_FOUND');
  });
});

describe('idempotency', () => {
  it('a retried checkout returns the first answer and never takes a second seat', () => {
    const h = new Harness();
    h.install({ seats: 5 });
    h.open('s');
    const first = h.checkout('s', { requestId: 'same' });
    const again = h.checkout('s', { requestId: 'same' });
    expect(again).toEqual(first);
    expect(h.inUse()).toBe(1);
  });

  it('a retry from a new session of the same client returns the first answer', () => {
    const h = new Harness();
    h.install({ seats: 5 });
    h.open('s1', 'u', 'h', 'client');
    const first = h.checkout('s1', { requestId: 'same' });
    h.open('s2', 'u', 'h', 'client');
    expect(h.checkout('s2', { requestId: 'same' })).toEqual(first);
    expect(h.inUse()).toBe(1);
  });

  it('a retried checkin returns the first answer', () => {
    const h = new Harness();
    h.install();
    h.open('s');
    const l = h.lease('s');
    const first = h.checkin('s', l.leaseId, 'ci');
    expect(h.checkin('s', l.leaseId, 'ci')).toEqual(first);
  });

  it('only the most recent requests of a client are remembered', () => {
    const h = new Harness({ requestsPerClientRememberedMax: 2 });
    h.install({ seats: 5 });
    h.open('s');
    h.checkout('s', { requestId: 'a' });
    h.checkout('s', { requestId: 'b' });
    h.checkout('s', { requestId: 'c' });
    expect(h.state.remembered.get('c-s')?.requestIds.length).toBe(2);
    h.checkout('s', { requestId: 'a' });
    expect(h.inUse()).toBe(4);
  });

  it('by default the last 16 requests of a client are remembered, as many as the SDK keeps in flight', () => {
    const h = new Harness();
    h.install({ seats: 20 });
    h.open('s');
    const first = new Map<string, PoolReply>();
    for (let i = 0; i <= 16; i++) first.set(`q${i}`, h.checkout('s', { requestId: `q${i}` }));
    expect(h.state.remembered.get('c-s')?.requestIds.length).toBe(16);
    expect(h.inUse()).toBe(17);
    // Each of the 16 latest retried after a failover gets its first answer, not a second seat.
    for (let i = 1; i <= 16; i++) expect(h.checkout('s', { requestId: `q${i}` })).toEqual(first.get(`q${i}`));
    expect(h.inUse()).toBe(17);
    // The 17th back was forgotten: its retry is a new checkout.
    expect(h.checkout('s', { requestId: 'q0' })).not.toEqual(first.get('q0'));
    expect(h.inUse()).toBe(18);
  });
});

describe('queue', () => {
  it('a waiting checkout is queued and the head is granted as soon as a seat frees', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('a');
    h.open('b');
    h.open('c');
    const held = h.lease('a');
    expect(h.checkout('b', { wait: true, requestId: 'rb' })).toMatchObject({ type: 'queued', position: 1, waitUntilMs: T0 + 10_000 });
    expect(h.checkout('c', { wait: true, requestId: 'rc' })).toMatchObject({ type: 'queued', position: 2 });
    h.checkin('a', held.leaseId);
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-b', requestId: 'rb', lease: { feature: 'cad' } }]);
    expect(h.events('queue')).toMatchObject([{ clientId: 'c-c', position: 1 }]);
    expect(queuePosition(h.state, 'c', 'rc')).toBe(1);
  });

  it('a retried queued checkout that was granted meanwhile returns the grant', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('a');
    h.open('b');
    const held = h.lease('a');
    h.checkout('b', { wait: true, requestId: 'rb' });
    h.checkin('a', held.leaseId);
    expect(h.checkout('b', { wait: true, requestId: 'rb' })).toMatchObject({ ok: true, type: 'granted' });
    expect(h.inUse()).toBe(1);
  });

  it('the queue is FIFO: a newcomer does not overtake a waiter that needs more seats', () => {
    const h = new Harness();
    h.install({ seats: 2 });
    h.open('a');
    h.open('b');
    const held = h.lease('a');
    h.checkout('b', { wait: true, count: 2 });
    expect(code(h.checkout('a'))).toBe('NO_SEATS');
    h.checkin('a', held.leaseId);
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-b', lease: { count: 2 } }]);
  });

  it('checkout() answers QUEUE_FULL when the queue holds its maximum', () => {
    const h = new Harness({ queueLengthMax: 1 });
    h.install({ seats: 1 });
    h.open('a');
    h.lease('a');
    h.checkout('a', { wait: true });
    expect(code(h.checkout('a', { wait: true }))).toBe('QUEUE_FULL');
  });

  it('a cancelled waiter leaves the queue and those behind move up', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('a');
    h.lease('a');
    h.checkout('a', { wait: true, requestId: 'w1' });
    h.checkout('a', { wait: true, requestId: 'w2' });
    expect(h.run({ type: 'checkout-cancel', at: h.at, sessionId: 'a', requestId: 'w1' })).toMatchObject({ ok: true });
    expect(h.events('queue')).toMatchObject([{ requestId: 'w2', position: 1 }]);
  });
});

describe('leases and sessions', () => {
  it('closing a session checks its leases in and ends its waits', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('s');
    h.lease('s');
    h.checkout('s', { wait: true });
    expect(h.run({ type: 'session-close', at: h.at, sessionId: 's' })).toMatchObject({ leaseCount: 1 });
    expect(h.inUse()).toBe(0);
    expect(h.events('dequeued')).toMatchObject([{ reason: 'session-closed' }]);
  });

  it('force check-in by an admin frees the seat and tells the holder the reason', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('s');
    const l = h.lease('s');
    h.run({ type: 'force-checkin', at: h.at, leaseId: l.leaseId, reason: 'stuck seat' });
    expect(h.events('revoked')).toMatchObject([{ leaseId: l.leaseId, reason: 'force-checkin', message: expect.stringContaining('stuck seat') }]);
    expect(h.inUse()).toBe(0);
  });

  it('session-open answers SESSIONS_LIMIT_REACHED at its maximum', () => {
    const h = new Harness({ sessionsMax: 1 });
    h.open('a');
    expect(code(h.run({ type: 'session-open', at: h.at, sessionId: 'b', clientId: 'b', user: 'b', host: 'b', app: 'x', sessionTtlMs: 1 }))).toBe(
      'SESSIONS_LIMIT_REACHED',
    );
  });

  it('checkout() answers LEASES_PER_POOL_LIMIT_REACHED at the pool\'s maximum', () => {
    const h = new Harness({ leasesPerPoolMax: 1 });
    h.install({ seats: 5 });
    h.open('s');
    h.lease('s');
    expect(code(h.checkout('s'))).toBe('LEASES_PER_POOL_LIMIT_REACHED');
  });
});

describe('linger', () => {
  it('a checked-in seat stays held for the key\'s linger time, then frees', () => {
    const h = new Harness();
    h.install({ seats: 1, lingerSeconds: 10 });
    h.open('a');
    h.open('b');
    const l = h.lease('a');
    expect(h.checkin('a', l.leaseId)).toMatchObject({ lingerUntilMs: T0 + 10_000 });
    expect(code(h.checkout('b'))).toBe('NO_SEATS');
    h.at += 10_000;
    expect(h.expire()).toMatchObject({ lingerCount: 1 });
    expect(code(h.checkout('b'))).toBe('granted');
  });

  it('the same user on the same host reclaims its lingering seat', () => {
    const h = new Harness();
    h.install({ seats: 1, lingerSeconds: 10 });
    h.open('a', 'alice', 'ws1');
    const l = h.lease('a');
    h.checkin('a', l.leaseId);
    h.open('a2', 'alice', 'ws1');
    expect(code(h.checkout('a2'))).toBe('granted');
  });

  it('linger is capped by the pool\'s maximum', () => {
    const h = new Harness();
    h.install({ seats: 1, lingerSeconds: 600 });
    h.run({ type: 'pool-configure', at: h.at, feature: 'cad', version: '29', lingerMsMax: 5_000 });
    h.open('a');
    const l = h.lease('a');
    expect(h.checkin('a', l.leaseId)).toMatchObject({ lingerUntilMs: T0 + 5_000 });
  });
});

describe('authorized-user model', () => {
  function authorized(hostsPerUserMax = 1): Harness {
    const h = new Harness();
    h.install({ model: 'authorized-user', seats: 2, hostsPerUserMax });
    return h;
  }

  it('only named users can check out', () => {
    const h = authorized();
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['alice'] });
    h.open('a', 'alice');
    h.open('b', 'bob');
    expect(code(h.checkout('a'))).toBe('granted');
    expect(code(h.checkout('b'))).toBe('NOT_AUTHORIZED_USER');
  });

  it('the admin may name at most the pool\'s seat count', () => {
    const h = authorized();
    expect(code(h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['a', 'b', 'c'] }))).toBe('USERS_EXCEED_SEATS');
  });

  it('a named user may hold the seat from as many hosts as the key allows', () => {
    const h = authorized(2);
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['alice'] });
    h.open('a1', 'alice', 'h1');
    h.open('a2', 'alice', 'h2');
    h.open('a3', 'alice', 'h3');
    expect(code(h.checkout('a1'))).toBe('granted');
    expect(code(h.checkout('a2'))).toBe('granted');
    expect(code(h.checkout('a3'))).toBe('HOSTS_PER_USER_REACHED');
    expect(h.inUse()).toBe(1);
  });

  it('a user no longer named loses its leases', () => {
    const h = authorized();
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['alice'] });
    h.open('a', 'alice');
    const l = h.lease('a');
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['bob'] });
    expect(h.events('revoked')).toMatchObject([{ leaseId: l.leaseId, reason: 'user-unassigned' }]);
  });
});

describe('determinism', () => {
  it('two replicas that apply the same commands produce byte-identical snapshots', () => {
    const a = new Harness();
    const b = new Harness();
    for (const h of [a, b]) {
      h.install({ seats: 3, lingerSeconds: 1 });
      h.open('x');
      h.open('y');
      const l = h.lease('x', { count: 2 });
      h.checkout('y', { wait: true, count: 2 });
      h.checkin('x', l.leaseId);
      h.at += 5_000;
      h.expire();
    }
    expect(encodeSnapshot(a.state)).toEqual(encodeSnapshot(b.state));
  });
});
