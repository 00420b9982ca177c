import { describe, expect, it } from 'vitest';
import { apply } from './apply.ts';
import type { PoolCommand } from './commands.ts';
import { checkInvariants } from './invariants.ts';
import { createPoolState } from './pool-state.ts';
import { listLeases, listLicenses, listSessions, nextDeadlineMs } from './queries.ts';
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
  { type: 'session-open', at: AT, sessionId: 'a', clientId: 'ca', user: 'ua', host: 'ha', app: '', sessionTtlMs: 60_000 },
  { type: 'session-open', at: AT, sessionId: 'b', clientId: 'cb', user: 'ub', host: 'hb', app: 'x', sessionTtlMs: 60_000 },
  { type: 'checkout', at: AT, sessionId: 'a', requestId: 'r1', feature: 'cad', count: 1, wait: false, leaseTtlMs: 30_000, waitMs: 0 },
  { type: 'checkout', at: AT, sessionId: 'b', requestId: 'r2', feature: 'cad', count: 2, wait: false, leaseTtlMs: 30_000, waitMs: 0 },
  { type: 'session-close', at: AT + 1, sessionId: 'a' },
  { type: 'checkout', at: AT + 2, sessionId: 'b', requestId: 'r3', feature: 'cad', count: 1, wait: true, leaseTtlMs: 30_000, waitMs: 5_000 },
];

describe('snapshot', () => {
  it(`restores the same leases, lingering seats, queue and remembered replies from format ${SNAPSHOT_FORMAT_VERSION}`, () => {
    const state = createPoolState();
    COMMANDS.forEach((c, i) => apply(state, c, i + 1));
    const bytes = encodeSnapshot(state);
    const restored = decodeSnapshot(bytes);
    expect(checkInvariants(restored)).toEqual([]);
    expect(listLeases(restored)).toEqual(listLeases(state));
    expect(listSessions(restored)).toEqual(listSessions(state));
    expect(nextDeadlineMs(restored)).toBe(nextDeadlineMs(state));
    expect(encodeSnapshot(restored)).toEqual(bytes);
    const retry: PoolCommand = { type: 'checkout', at: AT + 3, sessionId: 'b', requestId: 'r2', feature: 'cad', count: 2, wait: false, leaseTtlMs: 30_000, waitMs: 0 };
    expect(apply(restored, retry, COMMANDS.length + 1)).toEqual(apply(state, retry, COMMANDS.length + 1));
  });

  it('keeps the key center a license came from, and a license without one stays without', () => {
    const state = createPoolState();
    const license = (COMMANDS[0] as Extract<PoolCommand, { type: 'license-install' }>).license;
    apply(state, { type: 'license-install', at: AT, license, provenance: { keyCenterUrl: 'https://keys.example.com', via: 'offline' } }, 1);
    apply(state, { type: 'license-install', at: AT, license: { ...license, licenseId: 'K2' } }, 2);
    const restored = decodeSnapshot(encodeSnapshot(state));
    expect(listLicenses(restored).map((l) => [l.licenseId, l.provenance])).toEqual([
      ['K1', { keyCenterUrl: 'https://keys.example.com', via: 'offline' }],
      ['K2', undefined],
    ]);
    expect(listLicenses(restored)).toEqual(listLicenses(state));
  });

  it('refuses bytes that are cut short or of an unknown format', () => {
    const state = createPoolState();
    COMMANDS.forEach((c, i) => apply(state, c, i + 1));
    const bytes = encodeSnapshot(state);
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 8))).toThrow(/lease table/);
    const foreign = bytes.slice();
    new DataView(foreign.buffer).setUint32(4, 7, true);
    expect(() => decodeSnapshot(foreign)).toThrow(/disagree on the format/);
    const at = foreign.indexOf(0x32, 12); // the "2" of the document's {"v":2
    foreign[at] = 0x37;
    expect(() => decodeSnapshot(foreign)).toThrow(/format 7, expected 2/);
    expect(() => decodeSnapshot(new TextEncoder().encode('{"v":1,"leases":[]}'))).toThrow(/not a Floe pool snapshot/);
  });
});
