import { describe, expect, it } from 'vitest';
import { verifyLicenseKey } from '../protocol/index.ts';
import { codeOf, lock, T0, testKeyCenter } from './key-center.test-support.ts';
import { REHOSTS_PER_CODE_MAX } from './member-replacement.ts';

const stats = { product: 'stats', version: '29', model: 'concurrent', seats: 10 } as const;

describe('activating a code again after a member of its servers was replaced', () => {
  it('moves the key in force to the new three lock codes: same seats, none taken from the code, superseding the old key', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [e] = await kc.entitle({ ...stats, orderNumber: 'CO-7' });
    const old = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)], hostDescription: 'cluster A' });
    const moved = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(4), lock(1), lock(2)] });
    const verdict = verifyLicenseKey(moved.keyText, { vendorKeys: [vendorKey], nowMs: T0, lockCode: lock(4) });
    expect(verdict.ok && verdict.license).toMatchObject({ supersedes: old.licenseId, seats: 10, orderNumber: 'CO-7', hostDescription: 'cluster A' });
    expect(moved.lockCodes).toEqual([lock(4), lock(1), lock(2)]);
    expect((await kc.listKeys()).map((k) => [k.licenseId, k.status])).toEqual([
      [old.licenseId, 'superseded'],
      [moved.licenseId, 'active'],
    ]);
    expect((await kc.listEntitlements())[0]?.seatsActivated).toBe(10);
    const audit = await kc.ctx.store.read((q) => q.audit({ limit: 1 }));
    expect(audit[0]).toMatchObject({ action: 'rehost', target: moved.licenseId, detail: { supersedes: old.licenseId } });
  });

  it('answers the same key to a retry after a lost answer, and ALREADY_ACTIVATED naming it on the old lock codes', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)] });
    const moved = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(4)] });
    expect((await kc.activate({ authCode: e!.authCode, lockCodes: [lock(2), lock(4), lock(1)] })).keyText).toBe(moved.keyText);
    await expect(kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)] })).rejects.toMatchObject({ code: 'ALREADY_ACTIVATED', message: expect.stringContaining(moved.licenseId) });
    expect(await kc.listKeys()).toHaveLength(2);
  });

  it('refuses servers that mostly changed, and a one-server key on another server, as ALREADY_ACTIVATED, writing nothing', async () => {
    const { kc } = await testKeyCenter();
    const [three] = await kc.entitle(stats);
    await kc.activate({ authCode: three!.authCode, lockCodes: [lock(1), lock(2), lock(3)] });
    expect(await codeOf(() => kc.activate({ authCode: three!.authCode, lockCodes: [lock(1), lock(4), lock(5)] }))).toBe('ALREADY_ACTIVATED');
    const [one] = await kc.entitle(stats);
    await kc.activate({ authCode: one!.authCode, lockCodes: [lock(6)] });
    expect(await codeOf(() => kc.activate({ authCode: one!.authCode, lockCodes: [lock(7)] }))).toBe('ALREADY_ACTIVATED');
    expect((await kc.listKeys()).map((k) => k.status)).toEqual(['active', 'active']);
  });

  it(`moves a code at most ${REHOSTS_PER_CODE_MAX} times, then answers REHOSTS_EXHAUSTED and writes nothing`, async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)] });
    for (let i = 0; i < REHOSTS_PER_CODE_MAX; i++) await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(10 + i)] });
    const keys = (await kc.listKeys()).length;
    await expect(kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(99)] })).rejects.toMatchObject({ code: 'REHOSTS_EXHAUSTED', message: expect.stringContaining('vendor') });
    expect(await kc.listKeys()).toHaveLength(keys);
  });
});
