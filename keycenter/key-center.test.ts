import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyLicenseKey } from '../protocol/index.ts';
import { AUTH_CODE_CHARS, parseAuthCode } from './auth-code.ts';
import { KeyCenter, initKeyCenter, readVendorPublicKey, STORE_FILE_NAME } from './key-center.ts';
import type { KeyCenterError } from './key-center-error.ts';
import { codeOf, DAY_MS, lock, T0, testKeyCenter } from './key-center.test-support.ts';
import { VENDOR_SECRET_FILE_NAME } from './vendor-key.ts';

const t0 = T0;

const stats = { product: 'stats', version: '29', model: 'concurrent', seats: 10 } as const;

describe('key center', () => {
  it('init writes an owner-only vendor key and refuses to run twice on one directory', async () => {
    const { dir } = await testKeyCenter();
    expect(statSync(join(dir, VENDOR_SECRET_FILE_NAME)).mode & 0o777).toBe(0o600);
    const before = readFileSync(join(dir, VENDOR_SECRET_FILE_NAME), 'utf8');
    expect(await codeOf(async () => initKeyCenter(dir))).toBe('ALREADY_INITIALIZED');
    expect(readFileSync(join(dir, VENDOR_SECRET_FILE_NAME), 'utf8')).toBe(before);
    expect(readVendorPublicKey(dir)).toMatch(/^ed25519:/);
  });

  it('open answers NOT_INITIALIZED for a directory without a key center', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'floe-kc-'));
    try {
      expect(await codeOf(() => KeyCenter.open(dir))).toBe('NOT_INITIALIZED');
      expect(await codeOf(async () => readVendorPublicKey(join(dir, 'nothing')))).toBe('NOT_INITIALIZED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('entitle gives an authorization code in the friendly format with a check character', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle({ ...stats, orderNumber: 'PO-7' });
    expect(e?.authCode.replaceAll('-', '')).toHaveLength(AUTH_CODE_CHARS);
    expect(parseAuthCode(e?.authCode)).toEqual({ ok: true, code: e?.authCode });
    expect(await kc.listEntitlements()).toMatchObject([{ authCode: e?.authCode, orderNumber: 'PO-7', seatsActivated: 0 }]);
  });

  it('a concurrent code activates once into a key that verifies on the locked node', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const key = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)], hostDescription: 'license server, Minneapolis' });
    const verdict = verifyLicenseKey(key.keyText, { vendorKeys: [vendorKey], nowMs: t0, lockCode: lock(1) });
    expect(verdict.ok && verdict.license).toMatchObject({ product: 'stats', seats: 10, lockCodes: [lock(1)], hostDescription: 'license server, Minneapolis' });
    expect(verdict.ok && verdict.license.expiresAt).toBeUndefined();
  });

  it('a second activation of a concurrent code answers ALREADY_ACTIVATED and names the key already issued', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const first = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] });
    try {
      await kc.activate({ authCode: e!.authCode, lockCodes: [lock(2)] });
      expect.unreachable();
    } catch (error) {
      expect((error as KeyCenterError).code).toBe('ALREADY_ACTIVATED');
      expect((error as KeyCenterError).message).toContain(first.licenseId);
    }
    expect(await kc.listKeys()).toHaveLength(1);
  });

  it('a redundant activation takes exactly three distinct lock codes, and the key checks out on each', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2)] }))).toBe('LOCK_CODE_COUNT');
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3), lock(4)] }))).toBe('LOCK_CODE_COUNT');
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [] }))).toBe('LOCK_CODE_COUNT');
    const dup = [lock(1), lock(2), lock(1).toLowerCase().replaceAll('-', '')];
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: dup }))).toBe('DUPLICATE_LOCK_CODE');
    expect(await kc.listKeys()).toHaveLength(0);
    const key = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)] });
    for (const n of [1, 2, 3]) {
      expect(verifyLicenseKey(key.keyText, { vendorKeys: [vendorKey], nowMs: t0, lockCode: lock(n) }).ok).toBe(true);
    }
  });

  it('five lock codes are allowed', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    expect((await kc.activate({ authCode: e!.authCode, lockCodes: [1, 2, 3, 4, 5].map(lock) })).lockCodes).toHaveLength(5);
  });

  it('a mistyped authorization code or lock code is refused as a typo, and writes nothing', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const code = e!.authCode;
    const swapped = code.slice(0, 1) + code.slice(2, 3) + code.slice(1, 2) + code.slice(3);
    if (swapped !== code) expect(await codeOf(() => kc.activate({ authCode: swapped, lockCodes: [lock(1)] }))).toBe('AUTH_CODE_TYPO');
    const l = lock(1);
    const typoLock = l.slice(0, 3) + (l[3] === 'X' ? 'Y' : 'X') + l.slice(4);
    expect(await codeOf(() => kc.activate({ authCode: code, lockCodes: [typoLock] }))).toBe('LOCK_CODE_TYPO');
    expect(await codeOf(() => kc.activate({ authCode: code, lockCodes: ['ABC'] }))).toBe('LOCK_CODE_MALFORMED');
    expect(await codeOf(() => kc.activate({ authCode: 'nonsense', lockCodes: [l] }))).toBe('AUTH_CODE_MALFORMED');
    expect(await kc.listKeys()).toHaveLength(0);
  });

  it('a well-formed code this key center never issued answers UNKNOWN_AUTH_CODE', async () => {
    const a = await testKeyCenter();
    const b = await testKeyCenter();
    const [e] = await a.kc.entitle(stats);
    expect(await codeOf(() => b.kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] }))).toBe('UNKNOWN_AUTH_CODE');
  });

  it('a bundle yields one code per component, each key granting its component as a pool', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const codes = await kc.entitle({ ...stats, product: 'stats-premium', components: ['stats-base', 'stats-regression', 'amos'] });
    expect(codes.map((c) => c.component)).toEqual(['stats-base', 'stats-regression', 'amos']);
    expect(new Set(codes.map((c) => c.authCode)).size).toBe(3);
    const key = await kc.activate({ authCode: codes[2]!.authCode, lockCodes: [lock(1)] });
    const verdict = verifyLicenseKey(key.keyText, { vendorKeys: [vendorKey], nowMs: t0 });
    expect(verdict.ok && verdict.license).toMatchObject({ product: 'stats-premium', components: ['amos'] });
    expect(await codeOf(() => kc.entitle({ ...stats, components: ['a', 'a'] }))).toBe('BAD_REQUEST');
  });

  it('a temporary code carries its end date into the key, and cannot be activated after it', async () => {
    const { kc, vendorKey, clock } = await testKeyCenter();
    const [byDays] = await kc.entitle({ ...stats, days: 30 });
    expect(byDays?.expiresAt).toBe(t0 + 30 * DAY_MS);
    const [byDate] = await kc.entitle({ ...stats, expiresAt: t0 + 10 * DAY_MS });
    const key = await kc.activate({ authCode: byDays!.authCode, lockCodes: [lock(1)] });
    const opts = { vendorKeys: [vendorKey], lockCode: lock(1) };
    expect(verifyLicenseKey(key.keyText, { ...opts, nowMs: t0 + 29 * DAY_MS }).ok).toBe(true);
    const late = verifyLicenseKey(key.keyText, { ...opts, nowMs: t0 + 30 * DAY_MS });
    expect(late.ok ? 'OK' : late.code).toBe('EXPIRED');
    clock.nowMs = t0 + 11 * DAY_MS;
    expect(await codeOf(() => kc.activate({ authCode: byDate!.authCode, lockCodes: [lock(1)] }))).toBe('ENTITLEMENT_EXPIRED');
    expect(await codeOf(() => kc.entitle({ ...stats, expiresAt: t0 }))).toBe('BAD_REQUEST');
    expect(await codeOf(() => kc.entitle({ ...stats, days: 5, expiresAt: t0 + 20 * DAY_MS }))).toBe('BAD_REQUEST');
    expect(await codeOf(() => kc.entitle({ ...stats, days: 0 }))).toBe('BAD_REQUEST');
  });

  it('a code with a start date yields a key that is NOT_YET_VALID until then', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [e] = await kc.entitle({ ...stats, startsAt: t0 + 5 * DAY_MS, days: 365 });
    const key = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] });
    const early = verifyLicenseKey(key.keyText, { vendorKeys: [vendorKey], nowMs: t0 });
    expect(early.ok ? 'OK' : early.code).toBe('NOT_YET_VALID');
    expect(verifyLicenseKey(key.keyText, { vendorKeys: [vendorKey], nowMs: t0 + 5 * DAY_MS }).ok).toBe(true);
  });

  it('a fresh key is valid on a server whose clock runs a few hours behind', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const key = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] });
    expect(verifyLicenseKey(key.keyText, { vendorKeys: [vendorKey], nowMs: t0 - 3 * 3600_000 }).ok).toBe(true);
  });

  it('an authorized-user code states its named users and may be split over activations until all are issued', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [e] = await kc.entitle({ ...stats, model: 'authorized-user', seats: 25, hostsPerUserMax: 2 });
    const site1 = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)], seats: 15 });
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [lock(2)], seats: 11 }))).toBe('BAD_REQUEST');
    const site2 = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(2)] });
    expect([site1.seats, site2.seats]).toEqual([15, 10]);
    const verdict = verifyLicenseKey(site1.keyText, { vendorKeys: [vendorKey], nowMs: t0 });
    expect(verdict.ok && verdict.license).toMatchObject({ model: 'authorized-user', seats: 15, hostsPerUserMax: 2 });
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [lock(3)] }))).toBe('SEATS_EXHAUSTED');
    expect((await kc.listEntitlements())[0]?.seatsActivated).toBe(25);
  });

  it('keysByHost() groups issued keys by host (their set of lock codes), described hosts first', async () => {
    const { kc } = await testKeyCenter();
    const codes = await kc.entitle({ ...stats, components: ['a', 'b', 'c', 'd', 'e'] });
    await kc.activate({ authCode: codes[0]!.authCode, lockCodes: [lock(1)], hostDescription: 'Minneapolis' });
    await kc.activate({ authCode: codes[1]!.authCode, lockCodes: [lock(2)] });
    await kc.activate({ authCode: codes[2]!.authCode, lockCodes: [lock(1)] });
    await kc.activate({ authCode: codes[3]!.authCode, lockCodes: [lock(3)], hostDescription: 'Chicago' });
    await kc.activate({ authCode: codes[4]!.authCode, lockCodes: [lock(6), lock(5), lock(4)], hostDescription: 'cluster' });
    const groups = (await kc.keysByHost()).map((g) => [g.hostDescription, g.lockCodes.length, g.keys.map((k) => k.component)]);
    expect(groups).toEqual([
      ['Chicago', 1, ['d']],
      ['cluster', 3, ['e']],
      ['Minneapolis', 1, ['a', 'c']],
      [null, 1, ['b']],
    ]);
  });

  it('entitle refuses bad product, version, model and seats with BAD_REQUEST and writes nothing', async () => {
    const { kc } = await testKeyCenter();
    for (const bad of [
      { ...stats, product: '' },
      { ...stats, product: 'a b' },
      { ...stats, version: 'v29' },
      { ...stats, model: 'floating' as 'concurrent' },
      { ...stats, seats: 0 },
      { ...stats, seats: 1.5 },
      { ...stats, comment: 'x'.repeat(501) },
    ]) {
      expect(await codeOf(() => kc.entitle(bad))).toBe('BAD_REQUEST');
    }
    expect(await kc.listEntitlements()).toHaveLength(0);
  });

  it('the store file is created by init and the migrations are applied', async () => {
    const { dir, kc } = await testKeyCenter();
    expect(statSync(join(dir, STORE_FILE_NAME)).isFile()).toBe(true);
    expect(await kc.listKeys()).toEqual([]);
  });
});
