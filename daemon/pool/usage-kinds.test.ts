// How a lease's end and a named-user change show in the usage rows: reports
// (and the console) tell a forced check-in, an expiry and a revocation apart
// from a holder's own check-in, and see who was named when.
import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import { CommandGenerator } from './command-generator.test-support.ts';
import { createPoolState } from './pool-state.ts';
import { listLeases } from './queries.ts';
import type { PoolEvent } from './results.ts';
import { Harness } from './harness.test-support.ts';

type Usage = Extract<PoolEvent, { kind: 'usage' }>;

function usageOf(h: Harness): Usage[] {
  return h.events('usage') as Usage[];
}

describe('usage kinds', () => {
  it('a forced check-in is recorded as force-checkin with the admin\'s reason, never as a checkin', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('s', 'alice', 'ws1');
    const l = h.lease('s');
    h.run({ type: 'force-checkin', at: h.at, leaseId: l.leaseId, reason: 'alice left for the day' });
    expect(usageOf(h)).toEqual([
      expect.objectContaining({ usage: 'force-checkin', leaseId: l.leaseId, user: 'alice', host: 'ws1', count: 1, reason: 'alice left for the day' }),
    ]);
  });

  it('a lease whose license is removed is recorded as revoke with reason license-removed', () => {
    const h = new Harness();
    h.install({ seats: 1 });
    h.open('s');
    const l = h.lease('s');
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K1' });
    expect(usageOf(h)).toEqual([expect.objectContaining({ usage: 'revoke', leaseId: l.leaseId, reason: 'license-removed' })]);
  });

  it('a lease whose license ends is recorded as revoke with reason license-expired; an unrenewed one as expiry', () => {
    const h = new Harness();
    h.install({ seats: 1, expiresAt: h.at + 10_000 });
    h.open('s');
    const l = h.lease('s', { leaseTtlMs: 60_000 });
    h.at += 10_000;
    h.expire();
    expect(usageOf(h)).toEqual([expect.objectContaining({ usage: 'revoke', leaseId: l.leaseId, reason: 'license-expired' })]);
    const g = new Harness();
    g.install({ seats: 1 });
    g.open('s');
    const m = g.lease('s', { leaseTtlMs: 1_000 });
    g.at += 60_000;
    g.expire();
    expect(usageOf(g)).toEqual([expect.objectContaining({ usage: 'expiry', leaseId: m.leaseId, reason: '' })]);
  });

  it('naming users records user-added and user-removed rows, and the removed user\'s lease ends as revoke', () => {
    const h = new Harness();
    h.install({ model: 'authorized-user', seats: 2 });
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['alice', 'bob'] });
    expect(usageOf(h).map((u) => [u.usage, u.user, u.feature, u.version])).toEqual([
      ['user-added', 'alice', 'cad', '29'],
      ['user-added', 'bob', 'cad', '29'],
    ]);
    h.open('a', 'alice');
    const l = h.lease('a');
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['bob', 'carol'] });
    expect(usageOf(h).map((u) => [u.usage, u.user, u.leaseId, u.reason])).toEqual([
      ['revoke', 'alice', l.leaseId, 'user-unassigned'],
      ['user-removed', 'alice', '', ''],
      ['user-added', 'carol', '', ''],
    ]);
  });

  it('named users beyond a shrunk seat count are recorded as user-removed with the reason', () => {
    const h = new Harness();
    h.install({ licenseId: 'K1', model: 'authorized-user', seats: 1 });
    h.install({ licenseId: 'K2', model: 'authorized-user', seats: 1 });
    h.run({ type: 'users-assign', at: h.at, feature: 'cad', version: '29', users: ['alice', 'bob'] });
    h.run({ type: 'license-remove', at: h.at, licenseId: 'K2' });
    expect(usageOf(h)).toEqual([expect.objectContaining({ usage: 'user-removed', user: 'bob', reason: 'license-removed' })]);
  });

  it('over 200,000 random commands every lease granted ends at most once, and every ended lease was granted', () => {
    const state = createPoolState({ durationMsMax: 60_000 });
    const started = new Set<string>();
    const ended = new Map<string, string>();
    const starting = new Set(['checkout', 'borrow']);
    const ending = new Set(['checkin', 'expiry', 'force-checkin', 'revoke', 'return', 'borrow-end']);
    const gen = new CommandGenerator(12, () => listLeases(state).filter((l) => !l.lingering).map((l) => l.leaseId));
    for (let i = 1; i <= 200_000; i++) {
      for (const e of apply(state, gen.next(), i).events) {
        if (e.kind !== 'usage') continue;
        if (starting.has(e.usage)) started.add(e.leaseId);
        if (!ending.has(e.usage)) continue;
        expect(started.has(e.leaseId), `${e.usage} of ${e.leaseId}, never granted`).toBe(true);
        expect(ended.get(e.leaseId), `${e.leaseId} ended twice`).toBeUndefined();
        ended.set(e.leaseId, e.usage);
      }
    }
    const held = listLeases(state).filter((l) => !l.lingering).length;
    expect(started.size).toBe(ended.size + held);
    expect(new Set(ended.values())).toEqual(ending);
  });
});
