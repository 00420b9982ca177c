import { describe, expect, it } from 'vitest';
import { listLeases } from './queries.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import { code, Harness } from './harness.test-support.ts';

describe('finding 8 (issue 11): requests are bound to their requestId', () => {
  it('a checkin that reuses a checkout’s requestId answers REQUEST_ID_REUSED and frees nothing', () => {
    const h = new Harness();
    h.install();
    h.open('s');
    const lease = h.lease('s', { requestId: 'q1' });
    const r = h.checkin('s', lease.leaseId, 'q1');
    expect(r).toMatchObject({ ok: false, code: 'REQUEST_ID_REUSED' });
    expect(r.ok ? '' : r.message).toContain('a different checkout');
    expect(listLeases(h.state).map((l) => l.leaseId)).toEqual([lease.leaseId]);
    expect(h.last?.events).toEqual([]);
  });

  it('a checkout that reuses a requestId with another count, feature or wait answers REQUEST_ID_REUSED, never the old grant', () => {
    const h = new Harness();
    h.install({ seats: 5 });
    h.install({ licenseId: 'K2', product: 'cam', seats: 5 });
    h.open('s');
    h.lease('s', { requestId: 'q1' });
    for (const other of [{ count: 2 }, { feature: 'cam' }, { wait: true }, { version: '29' }]) {
      expect(code(h.checkout('s', { requestId: 'q1', ...other }))).toBe('REQUEST_ID_REUSED');
    }
    expect(h.inUse()).toBe(1);
  });

  it('a faithful retry still gets the first answer, also with another wait or lease ttl a node filled in', () => {
    const h = new Harness();
    h.install();
    h.open('s');
    const first = h.lease('s', { requestId: 'q1' });
    expect(h.checkout('s', { requestId: 'q1', waitMs: 99, leaseTtlMs: 5_000 })).toEqual({ ok: true, type: 'granted', lease: first });
    const checkin = h.checkin('s', first.leaseId, 'q2');
    expect(h.checkin('s', first.leaseId, 'q2')).toEqual(checkin);
  });

  it('a queued checkout retried as a different request is refused and keeps its place; after a snapshot the binding holds', () => {
    const h = new Harness({ requestsPerClientRememberedMax: 1 });
    h.install({ seats: 1 });
    h.open('holder');
    h.lease('holder');
    h.open('s');
    expect(h.checkout('s', { requestId: 'q1', wait: true })).toMatchObject({ type: 'queued', position: 1 });
    // The ring (one slot here) forgets q1's answer; the queue place still binds it.
    expect(code(h.checkout('s', { requestId: 'q2', feature: 'nope' }))).toBe('UNKNOWN_FEATURE');
    expect(code(h.checkout('s', { requestId: 'q1', wait: true, count: 2 }))).toBe('REQUEST_ID_REUSED');
    expect(h.checkout('s', { requestId: 'q1', wait: true })).toMatchObject({ type: 'queued', position: 1 });
    h.state = decodeSnapshot(encodeSnapshot(h.state));
    expect(code(h.checkout('s', { requestId: 'q1', wait: false }))).toBe('REQUEST_ID_REUSED');
  });
});
