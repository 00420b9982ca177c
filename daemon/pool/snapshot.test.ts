import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import type { PoolCommand } from './commands.ts';
import { checkInvariants } from './invariants.ts';
import { createPoolState } from './pool-state.ts';
import { listLeases, listSessions, nextDeadlineMs } from './queries.ts';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT_VERSION } from './snapshot.ts';

const AT = 1_000_000;

/** A held lease, a lingering lease whose session closed, and a queued checkout. */
const COMMANDS: PoolCommand[] = [
  {
    type: 'license-install',
    at: AT,
    license: {
      v: 1, licenseId: 'K1', authCode: 'A', vendorKeyId: 'V', product: 'cad', version: '29', model: 'concurrent',
      seats: 3, components: [], issuedAt: 0, notBefore: 0, lockCodes: ['X'], lingerSeconds: 60, hostsPerUserMax: 1,
    },
  },
  // Format 1 did not record the app of a lease lingering after its session closed (it restores as ''): session a has none.
  { type: 'session-open', at: AT, sessionId: 'a', clientId: 'ca', user: 'ua', host: 'ha', app: '', sessionTtlMs: 60_000 },
  { type: 'session-open', at: AT, sessionId: 'b', clientId: 'cb', user: 'ub', host: 'hb', app: 'x', sessionTtlMs: 60_000 },
  { type: 'checkout', at: AT, sessionId: 'a', requestId: 'r1', feature: 'cad', count: 1, wait: false, leaseTtlMs: 30_000, waitMs: 0 },
  { type: 'checkout', at: AT, sessionId: 'b', requestId: 'r2', feature: 'cad', count: 2, wait: false, leaseTtlMs: 30_000, waitMs: 0 },
  { type: 'session-close', at: AT + 1, sessionId: 'a' },
  { type: 'checkout', at: AT + 2, sessionId: 'b', requestId: 'r3', feature: 'cad', count: 1, wait: true, leaseTtlMs: 30_000, waitMs: 5_000 },
];

/** What format 1 (the whole state as JSON, written before the lease table) made of COMMANDS. */
const FORMAT_1 = JSON.stringify({"v":1,"limits":{"licensesMax":1000,"poolsMax":1000,"sessionsMax":250000,"leasesPerPoolMax":250000,"leasesPerSessionMax":1000,"queueLengthMax":10000,"requestsPerClientRememberedMax":16,"clientsRememberedMax":250000,"renewIdsMax":100000,"durationMsMax":604800000},"appliedIndex":7,"nowMs":1000002,"nextSeq":7,"licenses":[[{"v":1,"licenseId":"K1","authCode":"A","vendorKeyId":"V","product":"cad","version":"29","model":"concurrent","seats":3,"components":[],"issuedAt":0,"notBefore":0,"lockCodes":["X"],"lingerSeconds":60,"hostsPerUserMax":1},1000000,["cad@29"]]],"pools":[["cad","29","concurrent",604800000,["K1"],[]]],"sessions":[["b","cb","ub","hb","x",1000000,1060000,2]],"leases":[[3,0,1,1000000,4,1060001,5,"a","ca","ua","ha"],[4,0,2,1000000,5,1030000,0,0]],"waiters":[[0,0,"r3",1,30000,1000002,1005002,6]],"remembered":[["ca",[["r1",{"ok":true,"type":"granted","lease":{"leaseId":"L3","feature":"cad","version":"29","count":1,"expiresAt":1030000,"fencingToken":4}}]]],["cb",[["r2",{"ok":true,"type":"granted","lease":{"leaseId":"L4","feature":"cad","version":"29","count":2,"expiresAt":1030000,"fencingToken":5}}],["r3",{"ok":true,"type":"queued","feature":"cad","version":"29","position":1,"waitUntilMs":1005002}]]]]});

describe('snapshot', () => {
  it(`is written in format ${SNAPSHOT_FORMAT_VERSION} and a snapshot of format 1, taken before, still restores the same state`, () => {
    const state = createPoolState();
    COMMANDS.forEach((c, i) => apply(state, c, i + 1));
    const restored = decodeSnapshot(new TextEncoder().encode(FORMAT_1));
    expect(checkInvariants(restored)).toEqual([]);
    expect(listLeases(restored)).toEqual(listLeases(state));
    expect(listSessions(restored)).toEqual(listSessions(state));
    expect(nextDeadlineMs(restored)).toBe(nextDeadlineMs(state));
    // Format 1 kept no request keys: its remembered answers match any retry; everything else is equal.
    const restoredBytes = encodeSnapshot(restored);
    expect(encodeSnapshot(decodeSnapshot(restoredBytes))).toEqual(restoredBytes);
    const next: PoolCommand = { type: 'checkout', at: AT + 3, sessionId: 'b', requestId: 'r1', feature: 'cad', count: 1, wait: false, leaseTtlMs: 30_000, waitMs: 0 };
    expect(apply(restored, next, COMMANDS.length + 1)).toEqual(apply(state, next, COMMANDS.length + 1));
  });

  it('refuses bytes that are cut short or of an unknown format', () => {
    const state = createPoolState();
    COMMANDS.forEach((c, i) => apply(state, c, i + 1));
    const bytes = encodeSnapshot(state);
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 8))).toThrow(/lease table/);
    expect(() => decodeSnapshot(new TextEncoder().encode(FORMAT_1.replace('"v":1,"limits"', '"v":7,"limits"')))).toThrow(/format 7/);
  });
});
