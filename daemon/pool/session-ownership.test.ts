import { describe, expect, it } from 'vitest';
import { findSession, listLeases } from './queries.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import { Harness } from './harness.test-support.ts';

describe('finding 7 (issue 11): a lease answers only to its own session', () => {
  it('a stranger’s checkin of a lease gets the same answer as a checkin of an id that does not exist, and frees nothing', () => {
    const h = new Harness();
    h.install();
    h.open('victim');
    h.open('stranger');
    const lease = h.lease('victim');
    const guessed = h.checkin('stranger', lease.leaseId);
    const unknown = h.checkin('stranger', 'L999999');
    expect(guessed).toEqual(unknown);
    expect(guessed).toMatchObject({ ok: false, code: 'LEASE_NOT_FOUND' });
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual([lease.leaseId]);
  });

  it('another session of the same clientId cannot check the lease in either: a clientId is not a credential', () => {
    const h = new Harness();
    h.install();
    h.open('s1', 'alice', 'ws-1', 'client-x');
    h.open('s2', 'mallory', 'ws-2', 'client-x');
    const lease = h.lease('s1');
    expect(h.checkin('s2', lease.leaseId)).toMatchObject({ ok: false, code: 'LEASE_NOT_FOUND' });
    expect(h.checkin('s1', lease.leaseId)).toMatchObject({ ok: true, type: 'checked-in' });
  });

  it('the hash of the session secret is kept with the session and in snapshots; a session opened without one has none', () => {
    const h = new Harness();
    h.run({ type: 'session-open', at: h.at, sessionId: 's', clientId: 'c', user: 'u', host: 'h', app: 'a', sessionTtlMs: 60_000, secretSha256: 'hash-of-secret' });
    h.open('old');
    const copy = decodeSnapshot(encodeSnapshot(h.state));
    expect(findSession(copy, 's')?.secretSha256).toBe('hash-of-secret');
    expect(findSession(copy, 'old')?.secretSha256).toBe('');
  });
});
