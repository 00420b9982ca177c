import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveLegacyLockCode, deriveLockCode, formatNodeLockCodes, verifyLicenseKey } from '../protocol/index.ts';
import { atomically, RULE_ATTEMPTS_MAX } from './atomically.ts';
import { seatsLeft } from './entitlement.ts';
import { CONFIG_FILE_NAME, DEFAULT_CONFIG, loadKeyCenterConfig } from './key-center-config.ts';
import { chainOf } from './issued-key.ts';
import { codeOf, DAY_MS, lock, queuedMail, T0, testKeyCenter } from './key-center.test-support.ts';
import { StoreConflictError } from './store/key-center-store.ts';

const stats = { product: 'stats', version: '29', model: 'concurrent', seats: 10 } as const;

describe('activation', () => {
  it('the same code on the same lock codes again answers the same key, whatever their order', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const first = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)] });
    const again = await kc.activate({ authCode: e!.authCode.toLowerCase(), lockCodes: [lock(3), lock(1), lock(2)] });
    expect(again.licenseId).toBe(first.licenseId);
    expect(again.keyText).toBe(first.keyText);
    expect(await kc.listKeys()).toHaveLength(1);
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [lock(4)] }))).toBe('ALREADY_ACTIVATED');
  });

  it('an authorized-user code on a host it already covers answers that key rather than a second one', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle({ ...stats, model: 'authorized-user', seats: 20 });
    const first = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)], seats: 5 });
    expect((await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)], seats: 5 })).licenseId).toBe(first.licenseId);
    expect((await kc.activate({ authCode: e!.authCode, lockCodes: [lock(2)] })).seats).toBe(15);
  });

  it('concurrent activations of one concurrent code on different servers issue exactly one key', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [lock(n)] }))));
    expect(results.filter((r) => r === 'OK')).toHaveLength(1);
    expect(results.filter((r) => r === 'ALREADY_ACTIVATED')).toHaveLength(4);
    expect(await kc.listKeys()).toHaveLength(1);
  });

  it('support can raise a concurrent code to one more activation, audited', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] });
    const { raiseActivations } = await import('./entitlement.ts');
    expect(seatsLeft((await kc.listEntitlements())[0]!)).toBe(0);
    expect((await raiseActivations(kc.ctx, e!.authCode, 1, 'vendor:ann')).activationsMax).toBe(2);
    expect(seatsLeft((await kc.listEntitlements())[0]!)).toBe(10);
    expect((await kc.activate({ authCode: e!.authCode, lockCodes: [lock(2)] })).seats).toBe(10);
    expect(await codeOf(() => kc.activate({ authCode: e!.authCode, lockCodes: [lock(3)] }))).toBe('ALREADY_ACTIVATED');
    const audit = await kc.ctx.store.read((q) => q.audit({ limit: 10 }));
    expect(audit.find((a) => a.action === 'raise-activations')).toMatchObject({ actor: 'vendor:ann', target: e!.authCode, detail: { from: 1, to: 2 } });
    expect(await codeOf(() => raiseActivations(kc.ctx, 'NOPE', 1, 'x'))).toBe('UNKNOWN_AUTH_CODE');
    const [users] = await kc.entitle({ ...stats, model: 'authorized-user' });
    expect(await codeOf(() => raiseActivations(kc.ctx, users!.authCode, 1, 'x'))).toBe('BAD_REQUEST');
  });
});

describe('rehost', () => {
  it('issues a key for the new lock codes with the same code, order and seats that names the old key in supersedes', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [e] = await kc.entitle({ ...stats, orderNumber: 'PO-9' });
    const old = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)], hostDescription: 'cluster A' });
    const moved = await kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(1), lock(2), lock(4)] });
    const verdict = verifyLicenseKey(moved.keyText, { vendorKeys: [vendorKey], nowMs: T0, lockCode: lock(4) });
    expect(verdict.ok && verdict.license).toMatchObject({ supersedes: old.licenseId, authCode: e!.authCode, orderNumber: 'PO-9', seats: 10, hostDescription: 'cluster A' });
    const keys = await kc.listKeys();
    expect(keys.map((k) => [k.licenseId, k.status, k.supersedes, k.supersededBy])).toEqual([
      [old.licenseId, 'superseded', null, moved.licenseId],
      [moved.licenseId, 'active', old.licenseId, null],
    ]);
    expect(chainOf(old.licenseId, keys).map((k) => k.licenseId)).toEqual([old.licenseId, moved.licenseId]);
    expect((await kc.listEntitlements())[0]?.seatsActivated).toBe(10);
  });

  it('a key is superseded once: a second rehost of it answers ALREADY_SUPERSEDED naming the newer key; the same rehost again answers the same key', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const old = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] });
    const moved = await kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(2)] });
    expect((await kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(2)] })).licenseId).toBe(moved.licenseId);
    await expect(kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(3)] })).rejects.toMatchObject({ code: 'ALREADY_SUPERSEDED', message: expect.stringContaining(moved.licenseId) });
    const again = await kc.rehost({ licenseId: moved.licenseId, lockCodes: [lock(3)] });
    expect(again.supersedes).toBe(moved.licenseId);
    expect((await kc.listKeys()).filter((k) => k.status === 'active').map((k) => k.licenseId)).toEqual([again.licenseId]);
  });

  it('activating the code again on the old lock codes after a rehost answers ALREADY_ACTIVATED naming where it went', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const old = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] });
    const moved = await kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(2)] });
    await expect(kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] })).rejects.toMatchObject({ code: 'ALREADY_ACTIVATED', message: expect.stringContaining(moved.licenseId) });
    expect((await kc.activate({ authCode: e!.authCode, lockCodes: [lock(2)] })).licenseId).toBe(moved.licenseId);
  });

  it('refuses an unknown license, bad lock codes and an ended temporary key, and writes nothing', async () => {
    const { kc, clock } = await testKeyCenter();
    const [e] = await kc.entitle({ ...stats, days: 10 });
    const old = await kc.activate({ authCode: e!.authCode, lockCodes: [lock(1)] });
    expect(await codeOf(() => kc.rehost({ licenseId: 'LIC-NOPE', lockCodes: [lock(2)] }))).toBe('LICENSE_NOT_FOUND');
    expect(await codeOf(() => kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(2), lock(3)] }))).toBe('LOCK_CODE_COUNT');
    const l = lock(2);
    expect(await codeOf(() => kc.rehost({ licenseId: old.licenseId, lockCodes: [l.slice(0, 3) + (l[3] === 'X' ? 'Y' : 'X') + l.slice(4)] }))).toBe('LOCK_CODE_TYPO');
    clock.nowMs = T0 + 11 * DAY_MS;
    expect(await codeOf(() => kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(2)] }))).toBe('ENTITLEMENT_EXPIRED');
    expect(await kc.listKeys()).toHaveLength(1);
  });
});

describe('adding seats to an existing host', () => {
  it('issues one key with the summed seats on the same lock codes, superseding the host key', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [a] = await kc.entitle(stats);
    const [b] = await kc.entitle({ ...stats, seats: 5 });
    const host = await kc.activate({ authCode: a!.authCode, lockCodes: [lock(1), lock(2), lock(3)], hostDescription: 'cluster' });
    const sum = await kc.addSeatsToHost({ authCode: b!.authCode, licenseId: host.licenseId }, { actor: 'cli', mailTo: 'admin@example.com' });
    expect(sum).toMatchObject({ seats: 15, seatsFromCode: 5, supersedes: host.licenseId, hostDescription: 'cluster', lockCodes: host.lockCodes });
    const verdict = verifyLicenseKey(sum.keyText, { vendorKeys: [vendorKey], nowMs: T0, lockCode: lock(2) });
    expect(verdict.ok && verdict.license).toMatchObject({ seats: 15, supersedes: host.licenseId, authCode: b!.authCode });
    expect((await kc.listEntitlements()).map((e) => e.seatsActivated)).toEqual([10, 5]);
    expect(await codeOf(() => kc.activate({ authCode: b!.authCode, lockCodes: [lock(4)] }))).toBe('ALREADY_ACTIVATED');
    // The same request again (a form sent twice) answers the same key.
    expect((await kc.addSeatsToHost({ authCode: b!.authCode, licenseId: host.licenseId }, { actor: 'cli' })).licenseId).toBe(sum.licenseId);
    const mail = (await queuedMail(kc)).at(-1);
    expect(mail).toMatchObject({ to: 'admin@example.com', attachments: [{ filename: `${sum.licenseId}.license`, content: `${sum.keyText}\n` }] });
  });

  it('refuses a host of another product, version, model or term (HOST_NOT_COMPATIBLE), and a superseded host', async () => {
    const { kc } = await testKeyCenter();
    const [a] = await kc.entitle(stats);
    const host = await kc.activate({ authCode: a!.authCode, lockCodes: [lock(1)] });
    for (const other of [{ ...stats, version: '30' }, { ...stats, product: 'amos' }, { ...stats, model: 'authorized-user' as const }, { ...stats, days: 30 }]) {
      const [e] = await kc.entitle(other);
      expect(await codeOf(() => kc.addSeatsToHost({ authCode: e!.authCode, licenseId: host.licenseId }, { actor: 'cli' }))).toBe('HOST_NOT_COMPATIBLE');
    }
    const [b] = await kc.entitle(stats);
    const [c] = await kc.entitle(stats);
    await kc.addSeatsToHost({ authCode: b!.authCode, licenseId: host.licenseId }, { actor: 'cli' });
    expect(await codeOf(() => kc.addSeatsToHost({ authCode: c!.authCode, licenseId: host.licenseId }, { actor: 'cli' }))).toBe('ALREADY_SUPERSEDED');
  });
});

describe('atomically', () => {
  it('runs a rule again when a unique constraint shows another writer got there first', async () => {
    const { kc } = await testKeyCenter();
    let attempts = 0;
    const result = await atomically(kc.ctx.store, async () => {
      attempts++;
      if (attempts < 3) throw new StoreConflictError('license_keys.supersedes', 'taken');
      return 'done';
    });
    expect([result, attempts]).toEqual(['done', 3]);
  });

  it(`gives up after ${RULE_ATTEMPTS_MAX} conflicts and reports the conflict`, async () => {
    const { kc } = await testKeyCenter();
    let attempts = 0;
    await expect(
      atomically(kc.ctx.store, async () => {
        attempts++;
        throw new StoreConflictError('x', 'always');
      }),
    ).rejects.toBeInstanceOf(StoreConflictError);
    expect(attempts).toBe(RULE_ATTEMPTS_MAX);
  });
});

describe('activation on lock codes of either form (protocol/ reads and matches them)', () => {
  const keyOf = (n: number) => new Uint8Array(32).fill(n);
  const machine = { machineId: 'm', macs: ['aa:bb:cc:dd:ee:01'], hostname: 'lic-a' };
  /** What node `n` states on `m` (its 0.2 and 0.1 codes), as a license server checks a key with. */
  const stated = (n: number, m = machine) => formatNodeLockCodes({ lockCode: deriveLockCode(m, keyOf(n)), legacyLockCode: deriveLegacyLockCode(m, keyOf(n)) });
  const renamed = { ...machine, hostname: 'lic-a-renamed' };
  const check = (keyText: string, vendorKey: Uint8Array, lockCode: string) => {
    const verdict = verifyLicenseKey(keyText, { vendorKeys: [vendorKey], nowMs: T0, lockCode });
    return verdict.ok ? 'OK' : verdict.code;
  };

  it('a key activated on a 0.2 lock code still checks out after the server is renamed; one on a 0.1 code checks out as before', async () => {
    const { kc, vendorKey } = await testKeyCenter();
    const [tolerant, legacy] = await kc.entitle({ ...stats, components: ['a', 'b'] });
    const key = await kc.activate({ authCode: tolerant!.authCode, lockCodes: [deriveLockCode(machine, keyOf(1)).toLowerCase()] });
    expect(key.lockCodes).toEqual([deriveLockCode(machine, keyOf(1))]);
    expect(check(key.keyText, vendorKey, stated(1, renamed))).toBe('OK');
    expect(check(key.keyText, vendorKey, stated(2))).toBe('LOCK_CODE_MISMATCH');
    const old = await kc.activate({ authCode: legacy!.authCode, lockCodes: [deriveLegacyLockCode(machine, keyOf(1))] });
    expect(check(old.keyText, vendorKey, stated(1))).toBe('OK');
    expect(check(old.keyText, vendorKey, stated(1, renamed))).toBe('LOCK_CODE_MISMATCH');
  });

  it('refuses two lock codes of one node (its identity, another hostname) as DUPLICATE_LOCK_CODE: one server must not count twice', async () => {
    const { kc } = await testKeyCenter();
    const [e] = await kc.entitle(stats);
    const lockCodes = [deriveLockCode(machine, keyOf(1)), deriveLockCode(machine, keyOf(2)), deriveLockCode(renamed, keyOf(1))];
    await expect(kc.activate({ authCode: e!.authCode, lockCodes })).rejects.toMatchObject({ code: 'DUPLICATE_LOCK_CODE', field: 'lockCodes.2', message: expect.stringContaining('name one server') });
    expect(await kc.listKeys()).toHaveLength(0);
  });

  it('a key center set to lockMatch "exact" issues keys that a renamed server no longer matches', async () => {
    const { kc, vendorKey } = await testKeyCenter({ config: { ...DEFAULT_CONFIG, lockMatch: 'exact' } });
    const [e] = await kc.entitle(stats);
    const key = await kc.activate({ authCode: e!.authCode, lockCodes: [deriveLockCode(machine, keyOf(1))] });
    expect(check(key.keyText, vendorKey, stated(1))).toBe('OK');
    expect(check(key.keyText, vendorKey, stated(1, renamed))).toBe('LOCK_CODE_MISMATCH');
  });

  it('reads lockMatch from keycenter.toml, and refuses a value it does not know as CONFIG_INVALID', () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'floe-kc-config-'));
    try {
      expect(loadKeyCenterConfig(dir).lockMatch).toBe('tolerant');
      writeFileSync(join(dir, CONFIG_FILE_NAME), 'lockMatch = "exact"\n');
      expect(loadKeyCenterConfig(dir).lockMatch).toBe('exact');
      writeFileSync(join(dir, CONFIG_FILE_NAME), 'lockMatch = "loose"\n');
      expect(() => loadKeyCenterConfig(dir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('lockMatch') }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
