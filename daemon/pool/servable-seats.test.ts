import { describe, expect, it } from 'vitest';
import { listPools } from './queries.ts';
import { code, Harness } from './harness.test-support.ts';

/** A pool of cad with a 1-seat key ONE and a 10-seat key TEN. */
function twoKeys(): Harness {
  const h = new Harness();
  h.install({ licenseId: 'ONE', seats: 1 });
  h.install({ licenseId: 'TEN', seats: 10 });
  h.open('a');
  h.open('b');
  return h;
}

describe('a checkout limited to the keys that pass on its serving node (licenseIds)', () => {
  it('is granted only while the seats in use stay within those keys\' seats, though the pool has more', () => {
    const h = twoKeys();
    expect(code(h.checkout('a', { licenseIds: ['ONE'] }))).toBe('granted');
    const refused = h.checkout('a', { licenseIds: ['ONE'] });
    expect(refused).toMatchObject({ ok: false, code: 'NO_SEATS' });
    expect(listPools(h.state)).toMatchObject([{ seatsTotal: 11, seatsInUse: 1 }]);
    // A node where both keys pass, and a checkout that names none of them (a node without lock codes), still get seats.
    expect(code(h.checkout('b', { licenseIds: ['ONE', 'TEN'] }))).toBe('granted');
    expect(code(h.checkout('b'))).toBe('granted');
    expect(code(h.checkout('b', { licenseIds: [] }))).toBe('NO_SEATS');
  });

  it('counts the seats already held from every node: one seat held elsewhere leaves none for a node that serves ONE only', () => {
    const h = twoKeys();
    h.lease('b', { licenseIds: ['ONE', 'TEN'] });
    expect(code(h.checkout('a', { licenseIds: ['ONE'] }))).toBe('NO_SEATS');
  });

  it('counts only the named keys in force: a key not yet valid adds nothing', () => {
    const h = new Harness();
    h.install({ licenseId: 'LATER', seats: 5, notBefore: h.at + 10_000 });
    h.install({ licenseId: 'NOW', seats: 1 });
    h.open('a');
    expect(code(h.checkout('a', { licenseIds: ['LATER'] }))).toBe('NO_SEATS');
    expect(code(h.checkout('a', { licenseIds: ['LATER', 'NOW'] }))).toBe('granted');
  });

  it('waits at the head of the queue until the seats in use fall within its keys\' seats, then is granted', () => {
    const h = twoKeys();
    const held = h.lease('b');
    expect(code(h.checkout('a', { licenseIds: ['ONE'], wait: true }))).toBe('queued');
    expect(listPools(h.state)).toMatchObject([{ seatsInUse: 1, queued: 1 }]);
    h.checkin('b', held.leaseId);
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-a' }]);
    expect(listPools(h.state)).toMatchObject([{ seatsInUse: 1, queued: 0 }]);
  });

  it('does not hold back the queue behind it: a checkout its keys cannot serve yet keeps its place while others get the free seats', () => {
    const h = twoKeys();
    h.open('c');
    h.open('d');
    const held = [h.lease('b', { count: 10 }), h.lease('b')];
    expect(h.checkout('a', { licenseIds: ['ONE'], wait: true })).toMatchObject({ type: 'queued', position: 1 });
    expect(h.checkout('c', { licenseIds: ['ONE', 'TEN'], wait: true })).toMatchObject({ type: 'queued', position: 2 });
    // One seat free, but 10 held are beyond ONE's seat: a waits, c (where both keys pass) is served.
    h.checkin('b', held[1]!.leaseId);
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-c' }]);
    expect(h.events('queue')).toEqual([]);
    expect(listPools(h.state)).toMatchObject([{ seatsInUse: 11, queued: 1 }]);
    // With only a waiter its keys hold back in the queue, a free seat goes to a new checkout at once.
    h.checkin('b', held[0]!.leaseId);
    expect(h.events('granted')).toEqual([]);
    expect(code(h.checkout('d'))).toBe('granted');
    expect(listPools(h.state)).toMatchObject([{ seatsInUse: 2, queued: 1 }]);
  });

  it('keeps the queue first come, first served otherwise: a waiter too big for the free seats still holds back those behind it', () => {
    const h = twoKeys();
    h.open('c');
    const held = [h.lease('b', { count: 10 }), h.lease('b')];
    expect(code(h.checkout('a', { count: 3, wait: true }))).toBe('queued');
    expect(code(h.checkout('c', { wait: true }))).toBe('queued');
    h.checkin('b', held[1]!.leaseId);
    expect(h.events('granted')).toEqual([]);
    expect(listPools(h.state)).toMatchObject([{ seatsInUse: 10, queued: 2 }]);
    expect(code(h.checkout('c'))).toBe('NO_SEATS');
  });

  it('reclaims its own lingering seat whatever keys it names: that seat is held already', () => {
    const h = new Harness();
    h.install({ licenseId: 'ONE', seats: 1, lingerSeconds: 60 });
    h.open('a');
    const first = h.lease('a', { licenseIds: ['ONE'] });
    h.checkin('a', first.leaseId);
    expect(code(h.checkout('a', { licenseIds: [] }))).toBe('granted');
  });

  it('of a named user not holding a seat yet answers NO_SEATS beyond the users of its keys', () => {
    const h = new Harness();
    h.install({ licenseId: 'ONE', seats: 1, model: 'authorized-user' });
    h.install({ licenseId: 'TWO', seats: 2, model: 'authorized-user' });
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['a', 'b', 'c'] });
    h.open('a');
    h.open('b');
    expect(code(h.checkout('a', { licenseIds: ['ONE'] }))).toBe('granted');
    expect(code(h.checkout('b', { licenseIds: ['ONE'] }))).toBe('NO_SEATS');
    expect(code(h.checkout('b', { licenseIds: ['ONE', 'TWO'] }))).toBe('granted');
  });
});

describe('a checkout limited to its keys under a seat policy', () => {
  it('is refused beyond its keys\' seats though the policy reserves nothing against it, and says how many this server serves', () => {
    const h = twoKeys();
    h.policy('MAX 5 cad USER a', 'flexlm-options');
    expect(code(h.checkout('a', { licenseIds: ['ONE'] }))).toBe('granted');
    const refused = h.checkout('a', { licenseIds: ['ONE'] });
    expect(refused).toMatchObject({ ok: false, code: 'NO_SEATS' });
    expect(refused.ok ? '' : refused.message).toContain('this server serves 1 of them');
    expect(code(h.checkout('b', { licenseIds: ['ONE', 'TEN'] }))).toBe('granted');
  });

  it('queued, waits until the seats in use fall within its keys\' seats, then is granted', () => {
    const h = twoKeys();
    h.policy('MAX 5 cad USER a', 'flexlm-options');
    const held = h.lease('b');
    expect(code(h.checkout('a', { licenseIds: ['ONE'], wait: true }))).toBe('queued');
    expect(listPools(h.state)).toMatchObject([{ seatsInUse: 1, queued: 1 }]);
    h.checkin('b', held.leaseId);
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-a' }]);
  });
});
