import { describe, expect, it } from 'vitest';
import { listLeases, listLicenses, listPools, listRetiredLicenses } from './queries.ts';
import { code, Harness, key } from './harness.test-support.ts';

describe('a key that supersedes another (rehost, renewal, added seats)', () => {
  it('replaces the installed key in one step: the pool never counts both, and every held lease stays', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', seats: 20 });
    h.open('a');
    const held = [h.lease('a'), h.lease('a')];
    const r = h.install({ licenseId: 'NEW', seats: 20, supersedes: 'OLD', lockCodes: ['Y'] });
    expect(r).toMatchObject({ ok: true, type: 'license-installed', licenseId: 'NEW', supersededLicenseId: 'OLD' });
    expect(listPools(h.state)).toMatchObject([{ feature: 'cad', seatsTotal: 20, seatsInUse: 2 }]);
    expect(listLicenses(h.state).map((l) => l.licenseId)).toEqual(['NEW']);
    expect(h.events('revoked')).toEqual([]);
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual(held.map((l) => l.leaseId));
  });

  it('leaves the superseded key refused for good (SUPERSEDED), even after the new key is removed', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD' });
    h.install({ licenseId: 'NEW', supersedes: 'OLD' });
    expect(code(h.install({ licenseId: 'OLD' }))).toBe('SUPERSEDED');
    h.run({ type: 'license-remove', at: h.at, licenseId: 'NEW' });
    const again = h.install({ licenseId: 'OLD' });
    expect(again).toMatchObject({ ok: false, code: 'SUPERSEDED' });
    expect(!again.ok && again.message).toContain('NEW');
    expect(listRetiredLicenses(h.state)).toMatchObject([
      { licenseId: 'OLD', reason: 'superseded', supersededBy: 'NEW' },
      { licenseId: 'NEW', reason: 'removed' },
    ]);
  });

  it('keeps out the key it names when that one was never installed here', () => {
    const h = new Harness();
    h.install({ licenseId: 'NEW', seats: 2, supersedes: 'OLD' });
    expect(code(h.install({ licenseId: 'OLD', seats: 2 }))).toBe('SUPERSEDED');
    expect(listPools(h.state)).toMatchObject([{ seatsTotal: 2 }]);
  });

  it('onto fewer seats revokes the newest leases beyond them, as a removal does', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', seats: 3 });
    h.open('a');
    const [l1, l2, l3] = [h.lease('a'), h.lease('a'), h.lease('a')];
    h.install({ licenseId: 'NEW', seats: 1, supersedes: 'OLD' });
    expect(h.events('revoked')).toMatchObject([
      { leaseId: l3.leaseId, reason: 'license-removed' },
      { leaseId: l2.leaseId, reason: 'license-removed' },
    ]);
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual([l1.leaseId]);
  });

  it('of a newer version (a renewal) carries the old pool over: every lease, lingering seat and waiter moves, nobody is revoked', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', version: '29', seats: 2, lingerSeconds: 60 });
    h.open('a');
    h.open('b');
    h.open('c');
    const held = h.lease('a', { version: '29' });
    const lingering = h.lease('b', { version: '29' });
    expect(code(h.checkin('b', lingering.leaseId))).toBe('checked-in');
    expect(code(h.checkout('c', { wait: true }))).toBe('queued');
    h.install({ licenseId: 'NEW', version: '30', seats: 2, supersedes: 'OLD' });
    expect(h.events('revoked')).toEqual([]);
    expect(h.events('dequeued')).toEqual([]);
    expect(listPools(h.state)).toMatchObject([{ version: '30', seatsTotal: 2, seatsInUse: 2, queued: 1 }]);
    expect(listLeases(h.state).map((l) => [l.leaseId, l.version, l.lingering])).toEqual([
      [held.leaseId, '30', false],
      [lingering.leaseId, '30', true],
    ]);
    // The seats count once: a client of the old version finds none free, and its lease checks in as before.
    expect(code(h.checkout('a', { version: '29' }))).toBe('NO_SEATS');
    expect(code(h.checkin('a', held.leaseId))).toBe('checked-in');
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-c', lease: { version: '30' } }]);
  });

  it('of a newer version with fewer seats carries the old pool over, then revokes the newest leases beyond them', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', version: '29', seats: 3 });
    h.open('a');
    const [l1, l2, l3] = [h.lease('a'), h.lease('a'), h.lease('a')];
    h.install({ licenseId: 'NEW', version: '30', seats: 2, supersedes: 'OLD' });
    expect(h.events('revoked')).toMatchObject([{ leaseId: l3.leaseId, version: '30', reason: 'license-removed' }]);
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual([l1.leaseId, l2.leaseId]);
  });

  it('of a newer version carries the named users of an authorized-user pool over with their seats', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', version: '29', model: 'authorized-user', seats: 2 });
    expect(code(h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['ann', 'bob'] }))).toBe('users-assigned');
    h.open('ann');
    const held = h.lease('ann');
    h.install({ licenseId: 'NEW', version: '30', model: 'authorized-user', seats: 2, supersedes: 'OLD' });
    expect(h.events('revoked')).toEqual([]);
    expect(listPools(h.state)).toMatchObject([{ version: '30', seatsInUse: 1 }]);
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual([held.leaseId]);
    h.open('bob');
    expect(code(h.checkout('bob', { version: '29' }))).toBe('granted');
  });

  it('of an older version, or over a pool that keeps another key, carries nothing over: leases beyond the seats left are revoked', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', version: '30', seats: 1 });
    h.open('a');
    const held = h.lease('a');
    h.install({ licenseId: 'NEW', version: '29', seats: 5, supersedes: 'OLD' });
    expect(h.events('revoked')).toMatchObject([{ leaseId: held.leaseId, version: '30' }]);
    h.install({ licenseId: 'OLD-B', version: '31', seats: 1 });
    h.install({ licenseId: 'KEEP', version: '31', seats: 1 });
    const [b1, b2] = [h.lease('a', { version: '31' }), h.lease('a', { version: '31' })];
    h.install({ licenseId: 'NEW-B', version: '32', seats: 5, supersedes: 'OLD-B' });
    expect(h.events('revoked')).toMatchObject([{ leaseId: b2.leaseId, version: '31' }]);
    expect(listLeases(h.state).map((l) => l.leaseId)).toContain(b1.leaseId);
  });

  it('lets a queued checkout limited to the keys of its node count the key that superseded one of them', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', seats: 1 });
    h.open('a');
    h.open('b');
    const held = h.lease('a', { licenseIds: ['OLD'] });
    expect(code(h.checkout('b', { wait: true, licenseIds: ['OLD'] }))).toBe('queued');
    h.install({ licenseId: 'NEW', seats: 1, supersedes: 'OLD', lockCodes: ['Y'] });
    expect(code(h.checkin('a', held.leaseId))).toBe('checked-in');
    expect(h.events('granted')).toMatchObject([{ clientId: 'c-b' }]);
  });

  it('of the other licensing model replaces the old key\'s pool when it was the only key there', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD', model: 'authorized-user' });
    expect(code(h.install({ licenseId: 'OTHER', model: 'concurrent' }))).toBe('MODEL_CONFLICT');
    expect(code(h.install({ licenseId: 'NEW', model: 'concurrent', supersedes: 'OLD' }))).toBe('license-installed');
    expect(listPools(h.state)).toMatchObject([{ model: 'concurrent', seatsTotal: 2 }]);
  });

  it('that the pool refuses changes nothing: the old key stays installed and is not retired', () => {
    const h = new Harness();
    h.install({ licenseId: 'OLD' });
    h.install({ licenseId: 'OTHER', version: '30' });
    expect(code(h.install({ licenseId: 'NEW', version: '30', model: 'authorized-user', supersedes: 'OLD' }))).toBe('MODEL_CONFLICT');
    expect(listLicenses(h.state).map((l) => l.licenseId)).toEqual(['OLD', 'OTHER']);
    expect(listRetiredLicenses(h.state)).toEqual([]);
  });

  it('fits when the server holds its maximum of licenses, since the old one leaves', () => {
    const h = new Harness({ licensesMax: 1 });
    h.install({ licenseId: 'OLD' });
    expect(code(h.install({ licenseId: 'OTHER' }))).toBe('LICENSES_LIMIT_REACHED');
    expect(code(h.install({ licenseId: 'NEW', supersedes: 'OLD' }))).toBe('license-installed');
  });
});

describe('a license an admin removed', () => {
  it('is not installed again from a license file (LICENSE_REMOVED), but is by an admin import', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1' });
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K1' });
    expect(code(h.run({ type: 'license-install', at: h.at, license: key({ licenseId: 'K1' }), from: 'license-file' }))).toBe('LICENSE_REMOVED');
    expect(listPools(h.state)).toEqual([]);
    expect(code(h.install({ licenseId: 'K1' }))).toBe('license-installed');
    expect(listRetiredLicenses(h.state)).toEqual([]);
    expect(code(h.run({ type: 'license-install', at: h.at, license: key({ licenseId: 'K2' }), from: 'license-file' }))).toBe('license-installed');
  });

  it('fills the list of retired licenses up to its limit, then a removal is refused and changes nothing', () => {
    const h = new Harness({ licensesRetiredMax: 1 });
    h.install({ licenseId: 'K1' });
    h.install({ licenseId: 'K2', version: '30' });
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K1' });
    expect(code(h.run({ type: 'license-remove', at: h.at, licenseId: 'K2' }))).toBe('RETIRED_LICENSES_LIMIT_REACHED');
    expect(code(h.install({ licenseId: 'K3', supersedes: 'K2' }))).toBe('RETIRED_LICENSES_LIMIT_REACHED');
    expect(listLicenses(h.state).map((l) => l.licenseId)).toEqual(['K2']);
  });
});
