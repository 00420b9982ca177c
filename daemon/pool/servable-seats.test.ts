import { describe, expect, it } from 'vitest';
import { listPools } from './queries.ts';
import { code, Harness } from './test-harness.ts';

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
