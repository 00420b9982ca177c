import { describe, expect, it } from 'vitest';
import { verifyLicenseKey } from '../protocol/index.ts';
import { addOrder, createAccount, type OrderWithLines } from './accounts.ts';
import { generateCodes } from './code-generation.ts';
import { lock, T0, testKeyCenter, type TestKeyCenter } from './key-center.test-support.ts';
import type { OrderInput } from './order-input.ts';

const SITE = 'S-100';
const three = [lock(1), lock(2), lock(3)];

function order(customerOrderNumber: string, lines: OrderInput['lines']): OrderInput {
  return { customerOrderNumber, contacts: [{ email: 'ada@example.com', name: 'Ada Lovelace', role: 'primary' }], lines };
}

/** Account S-100 with order CO-1: stats 29, 10 concurrent seats. */
async function withFirstOrder(): Promise<TestKeyCenter & { first: OrderWithLines; codeOf(lineId: string, seats?: number): Promise<string> }> {
  const t = await testKeyCenter();
  await createAccount(t.kc.ctx, { siteNumber: SITE, companyName: 'Acme Analytics' }, 'vendor:ann');
  const first = await addOrder(t.kc.ctx, SITE, order('CO-1', [{ product: 'stats', version: '29', model: 'concurrent', quantity: 10 }]), 'cli');
  const user = await t.kc.ctx.store.read((q) => q.userByEmail('ada@example.com'));
  const scope = { siteNumber: SITE, userId: user!.userId, email: 'ada@example.com' };
  const codeOf = async (lineId: string, seats = 10): Promise<string> => (await generateCodes(t.kc.ctx, scope, { lineId, seats }))[0]!.authCode;
  return { ...t, first, codeOf };
}

/** An order renewing `line` at `version`. */
async function renewal(t: TestKeyCenter, n: string, lineId: string, version: string, quantity = 10, starts?: string): Promise<OrderWithLines> {
  return addOrder(t.kc.ctx, SITE, order(n, [{ product: 'stats', version, model: 'concurrent', quantity, renewsLineId: lineId, ...(starts === undefined ? {} : { starts }) }]), 'cli');
}

describe('a maintenance renewal', () => {
  it("activated on the host of the renewed line's key names that key in supersedes, so the seats are not counted twice", async () => {
    const t = await withFirstOrder();
    const old = await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three });
    const renewed = await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30');
    const key = await t.kc.activate({ authCode: await t.codeOf(renewed.lines[0]!.lineId), lockCodes: [lock(3), lock(1), lock(2)] });
    const verdict = verifyLicenseKey(key.keyText, { vendorKeys: [t.vendorKey], nowMs: T0 });
    expect(verdict.ok && verdict.license).toMatchObject({ version: '30', seats: 10, supersedes: old.licenseId, orderNumber: 'CO-2' });
    expect((await t.kc.listKeys()).map((k) => [k.version, k.status, k.supersededBy])).toEqual([
      ['29', 'superseded', key.licenseId],
      ['30', 'active', null],
    ]);
  });

  it("activated without a host description keeps the renewed key's; a rehost without one keeps it too; a new one wins", async () => {
    const t = await withFirstOrder();
    const old = await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three, hostDescription: 'License servers, Minneapolis' });
    const key = await t.kc.activate({ authCode: await t.codeOf((await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30')).lines[0]!.lineId), lockCodes: three });
    expect([key.supersedes, key.hostDescription]).toEqual([old.licenseId, 'License servers, Minneapolis']);
    const verdict = verifyLicenseKey(key.keyText, { vendorKeys: [t.vendorKey], nowMs: T0 });
    expect(verdict.ok && verdict.license.hostDescription).toBe('License servers, Minneapolis');
    const moved = await t.kc.rehost({ licenseId: key.licenseId, lockCodes: [lock(4), lock(5), lock(6)] }, { actor: 'cli' });
    expect(moved.hostDescription).toBe('License servers, Minneapolis');
    const renamed = await t.kc.activate({ authCode: await t.codeOf((await renewal(t, 'CO-3', t.first.lines[0]!.lineId, '31')).lines[0]!.lineId), lockCodes: [lock(4), lock(5), lock(6)], hostDescription: 'Chicago' });
    expect(renamed.hostDescription).toBe('Chicago');
  });

  it('answers the same key when activated again on the same lock codes (a retry after a lost answer)', async () => {
    const t = await withFirstOrder();
    await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three });
    const code = await t.codeOf((await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30')).lines[0]!.lineId);
    const key = await t.kc.activate({ authCode: code, lockCodes: three });
    expect((await t.kc.activate({ authCode: code, lockCodes: three })).keyText).toBe(key.keyText);
    expect(await t.kc.listKeys()).toHaveLength(2);
  });

  it('activated on other servers than the renewed key supersedes nothing: that host had no seats of the line', async () => {
    const t = await withFirstOrder();
    await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three });
    const code = await t.codeOf((await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30')).lines[0]!.lineId);
    const key = await t.kc.activate({ authCode: code, lockCodes: [lock(4)] });
    expect(key.supersedes).toBeNull();
    expect((await t.kc.listKeys()).map((k) => k.status)).toEqual(['active', 'active']);
  });

  it('follows the key of the renewed line where it went: a key rehosted to new servers is the one superseded there', async () => {
    const t = await withFirstOrder();
    const old = await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three });
    const moved = await t.kc.rehost({ licenseId: old.licenseId, lockCodes: [lock(1), lock(2), lock(4)] });
    const code = await t.codeOf((await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30')).lines[0]!.lineId);
    expect((await t.kc.activate({ authCode: code, lockCodes: [lock(1), lock(2), lock(4)] })).supersedes).toBe(moved.licenseId);
  });

  it('of a renewal never activated supersedes the key of the line before it (29 → 30 skipped → 31)', async () => {
    const t = await withFirstOrder();
    const old = await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three });
    const r30 = await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30');
    const r31 = await renewal(t, 'CO-3', r30.lines[0]!.lineId, '31');
    expect((await t.kc.activate({ authCode: await t.codeOf(r31.lines[0]!.lineId), lockCodes: three })).supersedes).toBe(old.licenseId);
  });

  it('split over two codes on one host supersedes the renewed key once; the second code adds its seats beside the first', async () => {
    const t = await withFirstOrder();
    const old = await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three });
    const lineId = (await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30')).lines[0]!.lineId;
    const a = await t.kc.activate({ authCode: await t.codeOf(lineId, 6), lockCodes: three });
    const b = await t.kc.activate({ authCode: await t.codeOf(lineId, 4), lockCodes: three });
    expect([a.supersedes, b.supersedes]).toEqual([old.licenseId, null]);
    expect((await t.kc.listKeys()).filter((k) => k.status === 'active').reduce((n, k) => n + k.seats, 0)).toBe(10);
  });

  it("of a temporary line past its end supersedes nothing: the renewed key had already ended", async () => {
    const t = await withFirstOrder();
    const temp = await addOrder(t.kc.ctx, SITE, order('CO-T', [{ product: 'stats', version: '29', model: 'concurrent', quantity: 5, days: 30 }]), 'cli');
    await t.kc.activate({ authCode: await t.codeOf(temp.lines[0]!.lineId, 5), lockCodes: [lock(7)] });
    t.clock.nowMs = T0 + 31 * 86_400_000;
    const code = await t.codeOf((await renewal(t, 'CO-2', temp.lines[0]!.lineId, '30', 5)).lines[0]!.lineId, 5);
    expect((await t.kc.activate({ authCode: code, lockCodes: [lock(7)] })).supersedes).toBeNull();
  });

  it('that starts later is refused as RENEWAL_NOT_STARTED while the renewed key would still serve then; it supersedes from its start', async () => {
    const t = await withFirstOrder();
    const old = await t.kc.activate({ authCode: await t.codeOf(t.first.lines[0]!.lineId), lockCodes: three });
    const code = await t.codeOf((await renewal(t, 'CO-2', t.first.lines[0]!.lineId, '30', 10, '2026-02-01')).lines[0]!.lineId);
    await expect(t.kc.activate({ authCode: code, lockCodes: three })).rejects.toMatchObject({ code: 'RENEWAL_NOT_STARTED', message: expect.stringContaining('2026-02-01') });
    expect(await t.kc.listKeys()).toHaveLength(1);
    t.clock.nowMs = Date.UTC(2026, 1, 1);
    expect((await t.kc.activate({ authCode: code, lockCodes: three })).supersedes).toBe(old.licenseId);
  });

  it('of an annual license, activated before the current year ends, starts when it ends and supersedes nothing: the two never overlap', async () => {
    const t = await withFirstOrder();
    const year = await addOrder(t.kc.ctx, SITE, order('CO-Y', [{ product: 'stats', version: '29', model: 'concurrent', quantity: 5, expires: '2026-01-31' }]), 'cli');
    await t.kc.activate({ authCode: await t.codeOf(year.lines[0]!.lineId, 5), lockCodes: three });
    const next = await addOrder(t.kc.ctx, SITE, order('CO-Y2', [{ product: 'stats', version: '30', model: 'concurrent', quantity: 5, starts: '2026-02-01', expires: '2027-01-31', renewsLineId: year.lines[0]!.lineId }]), 'cli');
    const key = await t.kc.activate({ authCode: await t.codeOf(next.lines[0]!.lineId, 5), lockCodes: three });
    expect(key.supersedes).toBeNull();
    expect((await t.kc.listKeys()).map((k) => k.status)).toEqual(['active', 'active']);
  });
});
