// Licenses are judged at the leader's date (its wall clock within a
// tolerance of cluster time), which may move back; lease deadlines run on
// cluster time, which never does.
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import { listLicenses, listPools, nextDeadlineMs } from './queries.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import { code, Harness, key, T0 } from './harness.test-support.ts';

const HOUR_MS = 3_600_000;

describe('license dates', () => {
  it('a key that a clock excursion ended is back in force when the date comes back, and its seats serve again', () => {
    const h = new Harness();
    h.install({ seats: 2, expiresAt: T0 + 12 * HOUR_MS });
    h.open('s');
    const lease = h.lease('s');
    // The leader's clock jumps a day ahead: the key's end is passed, its lease revoked.
    h.run({ type: 'expire', at: T0 + 1000, dateMs: T0 + 24 * HOUR_MS });
    expect(h.events('revoked')).toMatchObject([{ leaseId: lease.leaseId, reason: 'license-expired' }]);
    expect(listLicenses(h.state)[0]).toMatchObject({ status: 'expired' });
    expect(listPools(h.state)[0]).toMatchObject({ seatsTotal: 0, seatsInUse: 0 });
    // The clock is corrected: the next command carries no date (it is cluster time again).
    h.at = T0 + 2000;
    expect(code(h.checkout('s'))).toBe('granted');
    expect(listLicenses(h.state)[0]).toMatchObject({ status: 'active' });
    expect(listPools(h.state)[0]).toMatchObject({ seatsTotal: 2, seatsInUse: 1 });
  });

  it('a date set back before a key starts puts the key back to pending until the date returns', () => {
    const h = new Harness();
    h.install({ notBefore: T0 - HOUR_MS });
    h.run({ type: 'expire', at: T0 + 10, dateMs: T0 - 2 * HOUR_MS });
    expect(listLicenses(h.state)[0]).toMatchObject({ status: 'pending' });
    h.run({ type: 'expire', at: T0 + 20 });
    expect(listLicenses(h.state)[0]).toMatchObject({ status: 'active' });
  });

  it('license-install refuses a key expired at the date, whatever cluster time says', () => {
    const h = new Harness();
    expect(code(h.run({ type: 'license-install', at: T0, dateMs: T0 + 2 * HOUR_MS, license: key({ expiresAt: T0 + HOUR_MS }) }))).toBe('LICENSE_EXPIRED');
    expect(code(h.run({ type: 'license-install', at: T0 + 2 * HOUR_MS, dateMs: T0, license: key({ expiresAt: T0 + HOUR_MS }) }))).toBe('license-installed');
  });

  it("the reaper's next deadline puts a key's end as far ahead in cluster time as it is ahead of the date", () => {
    const h = new Harness();
    h.install({ expiresAt: T0 + 5 * HOUR_MS });
    h.run({ type: 'expire', at: T0 + 100, dateMs: T0 + 4 * HOUR_MS });
    expect(nextDeadlineMs(h.state)).toBe(T0 + 100 + HOUR_MS);
  });

  it('a snapshot keeps a date that differs from cluster time, and leases still expire by cluster time', () => {
    const h = new Harness();
    h.install({ seats: 3 });
    h.open('s');
    h.lease('s', { leaseTtlMs: 30_000 });
    h.run({ type: 'expire', at: T0 + 1000, dateMs: T0 + 3 * 24 * HOUR_MS });
    const copy = decodeSnapshot(encodeSnapshot(h.state));
    expect(copy.dateMs).toBe(T0 + 3 * 24 * HOUR_MS);
    // Three days on the date are one second of cluster time: the 30 s lease is still held.
    expect(apply(copy, { type: 'expire', at: T0 + 29_000, dateMs: T0 + 3 * 24 * HOUR_MS }, h.index + 1).reply).toMatchObject({ leaseCount: 0 });
    expect(apply(copy, { type: 'expire', at: T0 + 30_000 }, h.index + 2).reply).toMatchObject({ leaseCount: 1 });
  });
});

