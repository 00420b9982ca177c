// Rule tests of borrowing: what the key and the policy allow, how a borrowed
// seat counts, returns, ends, and how a revoked one comes back.
import { describe, expect, it } from 'vitest';
import type { BorrowCommand } from './commands.ts';
import { listLeases, listPools } from './queries.ts';
import type { PoolReply } from './results.ts';
import { code, Harness } from './harness.test-support.ts';

const HOUR = 3_600_000;

function borrowSite(seats: number, over: Record<string, unknown> = {}): Harness {
  const h = new Harness();
  h.install({ seats, borrowAllowed: true, borrowHoursMax: 72, ...over });
  return h;
}

let rid = 0;
function borrow(h: Harness, sessionId: string, over: Partial<BorrowCommand> = {}): PoolReply {
  return h.run({ type: 'borrow', at: h.at, sessionId, requestId: `b${++rid}`, feature: 'cad', durationMs: 24 * HOUR, fingerprint: `fp-${sessionId}`, ...over });
}
function borrowed(h: Harness, sessionId: string, over: Partial<BorrowCommand> = {}): string {
  const r = borrow(h, sessionId, over);
  if (!r.ok || r.type !== 'borrowed') throw new Error(`expected a borrow, got ${JSON.stringify(r)}`);
  return r.lease.leaseId;
}

describe('borrowing', () => {
  it('a borrow takes one seat until its end, with no renewal, and counts in the pool as in use and borrowed', () => {
    const h = borrowSite(2);
    h.open('a', 'alice', 'laptop');
    const r = borrow(h, 'a', { durationMs: 48 * HOUR });
    expect(r).toMatchObject({ ok: true, type: 'borrowed', lease: { count: 1, expiresAt: h.at + 48 * HOUR }, user: 'alice', host: 'laptop', fingerprint: 'fp-a', clientId: 'c-a' });
    expect(listPools(h.state)[0]).toMatchObject({ seatsInUse: 1, seatsBorrowed: 1 });
    expect(listLeases(h.state)[0]).toMatchObject({ borrowed: true, borrowRevoked: false, user: 'alice' });
    expect(h.events('usage')).toMatchObject([{ usage: 'borrow', user: 'alice' }]);
  });

  it('a borrowed seat outlives its session and a leader change: session-close, renewals and grace leave it as it is', () => {
    const h = borrowSite(1);
    h.open('a');
    const id = borrowed(h, 'a', { durationMs: HOUR });
    h.run({ type: 'session-close', at: h.at, sessionId: 'a' });
    h.run({ type: 'grace', at: h.at, graceMs: 5 * HOUR });
    expect(h.state.leases.get(id)?.deadlineMs).toBe(h.at + HOUR);
    h.at += HOUR - 1;
    h.expire();
    expect(h.inUse()).toBe(1);
    h.at += 1;
    h.expire();
    expect(h.inUse()).toBe(0);
    expect(h.events('usage')).toMatchObject([{ usage: 'borrow-end', leaseId: id }]);
    expect(h.events('revoked')).toEqual([]);
  });

  it('a key that does not allow borrowing refuses BORROW_NOT_ALLOWED; longer than its hours, BORROW_TOO_LONG', () => {
    const h = new Harness();
    h.install({ seats: 2 });
    h.open('a');
    expect(borrow(h, 'a')).toMatchObject({ ok: false, code: 'BORROW_NOT_ALLOWED', message: 'No key of cad 29 in force allows borrowing.' });
    const g = borrowSite(2, { borrowHoursMax: undefined });
    g.open('a');
    expect(borrow(g, 'a', { durationMs: 168 * HOUR }).ok).toBe(true);
    expect(borrow(g, 'a', { durationMs: 169 * HOUR })).toMatchObject({ code: 'BORROW_TOO_LONG', message: 'A seat of cad 29 may be borrowed for at most 168 hours (its key); 169 were asked.' });
  });

  it("the policy's borrow_hours_max, low-water mark and share limit borrowing within the key's", () => {
    const h = borrowSite(4);
    h.open('a');
    h.policy('[[settings]]\nfeature = "cad"\nborrow_hours_max = 8\nborrow_low_water = 1\nborrow_share_percent_max = 50\n');
    expect(borrow(h, 'a', { durationMs: 9 * HOUR })).toMatchObject({ code: 'BORROW_TOO_LONG', message: 'A seat of cad 29 may be borrowed for at most 8 hours (the seat policy); 9 were asked.' });
    borrowed(h, 'a', { durationMs: 8 * HOUR });
    borrowed(h, 'a', { durationMs: 8 * HOUR });
    expect(borrow(h, 'a', { durationMs: HOUR })).toMatchObject({
      code: 'BORROW_LIMIT_REACHED',
      message: '2 of the 4 seats of cad 29 are borrowed, the most the seat policy allows (borrow_low_water 1, borrow_share_percent_max 50).',
    });
    expect(code(h.checkout('a'))).toBe('granted');
  });

  it('FlexNet MAX_BORROW_HOURS and BORROW_LOWWATER lines limit borrowing the same way', () => {
    const h = borrowSite(3);
    h.open('a');
    h.policy('MAX_BORROW_HOURS cad 12\nBORROW_LOWWATER cad 2', 'flexlm-options');
    expect(code(borrow(h, 'a', { durationMs: 13 * HOUR }))).toBe('BORROW_TOO_LONG');
    borrowed(h, 'a', { durationMs: 12 * HOUR });
    expect(code(borrow(h, 'a', { durationMs: HOUR }))).toBe('BORROW_LIMIT_REACHED');
  });

  it('include_borrow and exclude_borrow decide who may borrow; who may not use a feature may not borrow it', () => {
    const h = borrowSite(5);
    h.open('alice');
    h.open('bob');
    h.open('carol');
    h.policy('INCLUDE_BORROW cad USER alice\nINCLUDE_BORROW cad USER bob\nEXCLUDE_BORROW cad USER bob\nEXCLUDE cad USER carol', 'flexlm-options');
    expect(code(borrow(h, 'alice'))).toBe('borrowed');
    expect(borrow(h, 'bob')).toMatchObject({ code: 'POLICY_EXCLUDED', message: 'Policy rule "exclude_borrow cad for user bob (line 3)" refuses bob on bob-host.' });
    expect(borrow(h, 'carol')).toMatchObject({ code: 'POLICY_EXCLUDED', message: 'Policy rule "exclude cad for user carol (line 4)" refuses carol on carol-host.' });
    expect(code(h.checkout('bob'))).toBe('granted');
  });

  it('a borrowed seat counts toward max, and a borrow never takes a reserved or awaited seat', () => {
    const h = borrowSite(2);
    h.open('alice');
    h.open('bob');
    h.policy('MAX 1 cad USER bob\nRESERVE 1 cad USER alice', 'flexlm-options');
    borrowed(h, 'bob');
    expect(code(h.checkout('bob'))).toBe('POLICY_MAX');
    h.open('carol');
    expect(code(borrow(h, 'carol'))).toBe('NO_SEATS');
    expect(code(borrow(h, 'alice'))).toBe('borrowed');
  });

  it('return gives the seat back early, from any session of the same client, and serves the queue', () => {
    const h = borrowSite(1);
    h.open('a', 'alice', 'laptop', 'client-a');
    h.open('w');
    const id = borrowed(h, 'a');
    h.run({ type: 'session-close', at: h.at, sessionId: 'a' });
    expect(code(h.checkout('w', { wait: true }))).toBe('queued');
    h.open('a2', 'alice', 'laptop', 'client-a');
    expect(h.run({ type: 'return', at: h.at, clientId: 'client-a', requestId: 'ret1', leaseId: id })).toEqual({ ok: true, type: 'returned', leaseId: id });
    expect(h.events('usage').map((e) => (e.kind === 'usage' ? e.usage : ''))).toEqual(['return', 'checkout', 'queue-wait']);
    expect(h.events('granted')).toHaveLength(1);
    expect(h.run({ type: 'return', at: h.at, clientId: 'client-a', requestId: 'ret1', leaseId: id })).toEqual({ ok: true, type: 'returned', leaseId: id });
  });

  it('return gives the seat back when the session it came through ended before it applied: the seat is the client\'s, not a session\'s', () => {
    const h = borrowSite(1);
    h.open('a', 'alice', 'laptop', 'client-a');
    const id = borrowed(h, 'a');
    h.open('a2', 'alice', 'laptop', 'client-a');
    // The return is sent through session a2, which expires before the entry applies.
    h.at += 60_000;
    h.expire();
    expect(h.state.sessions.size).toBe(0);
    expect(h.run({ type: 'return', at: h.at, clientId: 'client-a', requestId: 'ret1', leaseId: id })).toEqual({ ok: true, type: 'returned', leaseId: id });
    expect(h.inUse()).toBe(0);
    expect(h.events('usage').map((e) => (e.kind === 'usage' ? e.usage : ''))).toEqual(['return']);
    // Its retry, through any later session, gets the first answer and changes nothing.
    h.open('a3', 'alice', 'laptop', 'client-a');
    expect(h.run({ type: 'return', at: h.at, clientId: 'client-a', requestId: 'ret1', leaseId: id })).toEqual({ ok: true, type: 'returned', leaseId: id });
    expect(h.inUse()).toBe(0);
  });

  it("return answers another client's borrow as unknown, refuses a lease that is not borrowed; checkin refuses a borrowed one", () => {
    const h = borrowSite(2);
    h.open('a');
    h.open('b');
    const id = borrowed(h, 'a');
    const held = h.lease('a');
    expect(code(h.run({ type: 'return', at: h.at, clientId: 'c-b', requestId: 'r-b', leaseId: id }))).toBe('LEASE_NOT_FOUND');
    expect(code(h.run({ type: 'return', at: h.at, clientId: 'c-a', requestId: 'r-a', leaseId: held.leaseId }))).toBe('LEASE_NOT_BORROWED');
    expect(code(h.checkin('a', id))).toBe('LEASE_BORROWED');
    expect(h.inUse()).toBe(2);
  });

  it('an admin revoking the borrow of an offline client is told the seat comes back at its end or when the client next connects', () => {
    const h = borrowSite(1);
    h.open('a', 'alice', 'laptop', 'client-a');
    const id = borrowed(h, 'a', { durationMs: 10 * HOUR });
    h.run({ type: 'session-close', at: h.at, sessionId: 'a' });
    expect(h.run({ type: 'force-checkin', at: h.at, leaseId: id, reason: 'laptop stolen' })).toEqual({ ok: true, type: 'force-checked-in', leaseId: id, borrowedUntilMs: h.at + 10 * HOUR });
    expect(h.inUse()).toBe(1);
    expect(listLeases(h.state)[0]).toMatchObject({ borrowRevoked: true });
    h.at += HOUR;
    h.open('a2', 'alice', 'laptop', 'client-a');
    expect(h.events('revoked')).toMatchObject([{ leaseId: id, sessionId: 'a2', reason: 'borrow-revoked' }]);
    expect(h.events('usage')).toMatchObject([{ usage: 'revoke', reason: 'borrow-revoked', leaseId: id }]);
    expect(h.inUse()).toBe(0);
  });

  it('an admin revoking the borrow of a client still online frees the seat now', () => {
    const h = borrowSite(1);
    h.open('a');
    const id = borrowed(h, 'a');
    expect(h.run({ type: 'force-checkin', at: h.at, leaseId: id, reason: 'needed' })).toEqual({ ok: true, type: 'force-checked-in', leaseId: id });
    expect(h.inUse()).toBe(0);
    expect(h.events('revoked')).toMatchObject([{ leaseId: id, reason: 'force-checkin' }]);
  });

  it('a removed key takes borrowed seats last', () => {
    const h = borrowSite(1, { licenseId: 'K1' });
    h.install({ licenseId: 'K2', seats: 1 });
    h.open('a');
    const id = borrowed(h, 'a');
    const held = h.lease('a');
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K2' });
    expect(h.state.leases.has(id)).toBe(true);
    expect(h.state.leases.has(held.leaseId)).toBe(false);
  });

  it('an authorized-user pool lends nothing; a retried borrow gets its first answer', () => {
    const h = new Harness();
    h.install({ model: 'authorized-user', seats: 1, borrowAllowed: true });
    h.open('a');
    expect(code(borrow(h, 'a'))).toBe('BORROW_NOT_ALLOWED');
    const g = borrowSite(2);
    g.open('a');
    const first = g.run({ type: 'borrow', at: g.at, sessionId: 'a', requestId: 'same', feature: 'cad', durationMs: HOUR, fingerprint: 'fp' });
    expect(g.run({ type: 'borrow', at: g.at, sessionId: 'a', requestId: 'same', feature: 'cad', durationMs: HOUR, fingerprint: 'fp' })).toEqual(first);
    expect(g.inUse()).toBe(1);
    expect(code(g.run({ type: 'borrow', at: g.at, sessionId: 'a', requestId: 'same', feature: 'cad', durationMs: 2 * HOUR, fingerprint: 'fp' }))).toBe('REQUEST_ID_REUSED');
  });

  it('the borrow-token key is set once: a second set keeps the first', () => {
    const h = new Harness();
    const k1 = { publicKey: 'A'.repeat(43), secretKey: 'B'.repeat(43) };
    expect(h.run({ type: 'borrow-key-set', at: h.at, ...k1 })).toEqual({ ok: true, type: 'borrow-key-set', publicKey: k1.publicKey, changed: true });
    expect(h.run({ type: 'borrow-key-set', at: h.at, publicKey: 'C'.repeat(43), secretKey: 'D'.repeat(43) })).toEqual({ ok: true, type: 'borrow-key-set', publicKey: k1.publicKey, changed: false });
    expect(h.state.borrowKey).toEqual(k1);
  });
});

describe('borrowing on a node that serves some of the keys', () => {
  it('lends a seat only within the seats of the keys that pass there, as a checkout, and says how many it serves', () => {
    const h = new Harness();
    h.install({ licenseId: 'ONE', seats: 1, borrowAllowed: true, borrowHoursMax: 72 });
    h.install({ licenseId: 'TEN', seats: 10, borrowAllowed: true, borrowHoursMax: 72 });
    h.open('a');
    h.open('b');
    borrowed(h, 'a', { licenseIds: ['ONE'] });
    const refused = borrow(h, 'a', { licenseIds: ['ONE'] });
    expect(refused).toMatchObject({ ok: false, code: 'NO_SEATS' });
    expect(refused.ok ? '' : refused.message).toContain('it serves 1 of them');
    expect(code(borrow(h, 'b', { licenseIds: ['ONE', 'TEN'] }))).toBe('borrowed');
    expect(code(borrow(h, 'b'))).toBe('borrowed');
    expect(listPools(h.state)[0]).toMatchObject({ seatsTotal: 11, seatsInUse: 3, seatsBorrowed: 3 });
  });
});
