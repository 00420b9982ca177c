import { describe, expect, it } from 'vitest';
import { verifyLicenseKey } from '../protocol/index.ts';
import { addOrder, createAccount, orderOf, ordersOf, resendCertificate } from './accounts.ts';
import { codeOf as codeOfLine, generateCodes, lineSummaries, lineSummary } from './code-generation.ts';
import { codeOf, DAY_MS, lock, mailedToken, queuedMail, T0, testKeyCenter } from './key-center.test-support.ts';
import { setPasswordWithToken } from './member-auth.ts';
import type { KeyCenter } from './key-center.ts';
import { addMember, decideJoinRequest, pendingJoinRequests, removeMember, requestToJoin } from './members.ts';
import type { OrderInput } from './order-input.ts';

const order = (n: string, over: Partial<OrderInput> = {}): OrderInput => ({
  customerOrderNumber: n,
  purchaseOrderNumber: `PO-${n}`,
  contacts: [
    { email: 'Ada@Example.com', name: 'Ada Lovelace', role: 'primary' },
    { email: 'tech@example.com', name: 'Tech Contact', role: 'technical' },
  ],
  lines: [
    { product: 'stats', version: '29', model: 'concurrent', quantity: 10 },
    { product: 'stats-premium', version: '29', model: 'authorized-user', quantity: 6, components: ['base', 'amos'] },
  ],
  ...over,
});

async function withAccount(siteNumber = 'S-100'): Promise<{ kc: KeyCenter; clock: { nowMs: number }; vendorKey: Uint8Array }> {
  const t = await testKeyCenter();
  await createAccount(t.kc.ctx, { siteNumber, companyName: 'Acme Analytics' }, 'vendor:ann');
  return t;
}

async function scopeOf(kc: KeyCenter, siteNumber: string, email: string) {
  const user = await kc.ctx.store.read((q) => q.userByEmail(email));
  return { siteNumber, userId: user!.userId, email };
}

describe('accounts and orders', () => {
  it('an account is keyed by its site number, once', async () => {
    const { kc } = await withAccount();
    expect(await codeOf(() => createAccount(kc.ctx, { siteNumber: 'S-100', companyName: 'Other' }, 'cli'))).toBe('ACCOUNT_EXISTS');
    expect(await codeOf(() => createAccount(kc.ctx, { siteNumber: 'bad site', companyName: 'x' }, 'cli'))).toBe('BAD_REQUEST');
    expect(await codeOf(() => createAccount(kc.ctx, { siteNumber: 'S-2', companyName: '' }, 'cli'))).toBe('BAD_REQUEST');
  });

  it("an order's contacts become admins of the account, each mailed a welcome with a one-time link and the certificate", async () => {
    const { kc } = await withAccount();
    const added = await addOrder(kc.ctx, 'S-100', order('CO-1'), 'vendor:ann');
    expect(added.lines.map((l) => [l.lineNo, l.product, l.quantity, l.components])).toEqual([
      [1, 'stats', 10, []],
      [2, 'stats-premium', 6, ['base', 'amos']],
    ]);
    const members = await kc.ctx.store.read((q) => q.membersOf('S-100'));
    expect(members.map((m) => [m.email, m.role])).toEqual([
      ['ada@example.com', 'admin'],
      ['tech@example.com', 'admin'],
    ]);
    const mails = await queuedMail(kc);
    expect(mails.map((m) => [m.to, m.subject])).toEqual([
      ['ada@example.com', 'Welcome to the Floe Key Center'],
      ['tech@example.com', 'Welcome to the Floe Key Center'],
      ['ada@example.com', 'Authorization certificate for order CO-1'],
      ['tech@example.com', 'Authorization certificate for order CO-1'],
    ]);
    expect(mails[0]?.text).toMatch(/http:\/\/127\.0\.0\.1:7600\/set-password\/[A-Za-z0-9_-]{43}/);
    // The mail carries a link, never a password: none exists until the contact sets one.
    expect((await kc.ctx.store.read((q) => q.userByEmail('ada@example.com')))?.passwordHash).toBeNull();
    expect(mails[2]?.text).toContain('PO-CO-1');
    // A second order: the contacts are members already; no second welcome.
    await addOrder(kc.ctx, 'S-100', order('CO-2', { lines: [{ product: 'stats', version: '30', model: 'concurrent', quantity: 10 }] }), 'cli');
    expect((await queuedMail(kc)).filter((m) => m.subject.startsWith('Welcome'))).toHaveLength(2);
    expect((await ordersOf(kc.ctx, 'S-100')).map((o) => o.customerOrderNumber)).toEqual(['CO-2', 'CO-1']);
    expect(await codeOf(() => addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli'))).toBe('ORDER_EXISTS');
    expect(await codeOf(() => addOrder(kc.ctx, 'S-404', order('CO-9'), 'cli'))).toBe('NOT_FOUND');
  });

  it('refuses a bad order whole: bad product, bad contact, a renewal of a line of another account', async () => {
    const { kc } = await withAccount();
    await createAccount(kc.ctx, { siteNumber: 'S-200', companyName: 'Other' }, 'cli');
    const other = await addOrder(kc.ctx, 'S-200', order('CO-X'), 'cli');
    const mailsBefore = (await queuedMail(kc)).length;
    for (const bad of [
      order('CO-1', { lines: [{ product: 'a b', version: '29', model: 'concurrent', quantity: 1 }] }),
      order('CO-1', { contacts: [{ email: 'not-an-address', name: 'x', role: 'primary' }] }),
      order('CO-1', { lines: [{ product: 'stats', version: '30', model: 'concurrent', quantity: 1, renewsLineId: other.lines[0]!.lineId }] }),
      order('CO-1', { lines: [] }),
    ]) {
      expect(await codeOf(() => addOrder(kc.ctx, 'S-100', bad, 'cli'))).toBe('BAD_REQUEST');
    }
    expect(await ordersOf(kc.ctx, 'S-100')).toEqual([]);
    expect(await queuedMail(kc)).toHaveLength(mailsBefore);
  });

  it('a maintenance renewal line names the line it renews and shows separately', async () => {
    const { kc } = await withAccount();
    const first = await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    await addOrder(kc.ctx, 'S-100', order('CO-2', { lines: [{ product: 'stats', version: '30', model: 'concurrent', quantity: 10, renewsLineId: first.lines[0]!.lineId }] }), 'cli');
    const renewal = (await lineSummaries(kc.ctx, 'S-100')).find((s) => s.line.version === '30');
    expect(renewal?.renews).toMatchObject({ lineId: first.lines[0]!.lineId, customerOrderNumber: 'CO-1', version: '29' });
  });

  it("resending a certificate mails the order's contacts again, audited", async () => {
    const { kc } = await withAccount();
    const added = await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    await resendCertificate(kc.ctx, added.orderId, 'vendor:ann');
    expect((await queuedMail(kc)).filter((m) => m.subject.startsWith('Authorization certificate'))).toHaveLength(4);
    expect((await kc.ctx.store.read((q) => q.audit({ limit: 1 })))[0]).toMatchObject({ actor: 'vendor:ann', action: 'resend-certificate', siteNumber: 'S-100' });
    expect(await codeOf(() => resendCertificate(kc.ctx, 'ORD-NOPE', 'x'))).toBe('NOT_FOUND');
  });
});

describe('generating authorization codes', () => {
  it('takes seats from a line until none remain; entitled, issued and remaining add up', async () => {
    const { kc, vendorKey } = await withAccount();
    const added = await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    const ada = await scopeOf(kc, 'S-100', 'ada@example.com');
    const lineId = added.lines[0]!.lineId;
    const [c1] = await generateCodes(kc.ctx, ada, { lineId, seats: 4, comment: 'lab' });
    await generateCodes(kc.ctx, ada, { lineId, seats: 6 });
    expect(await lineSummary(kc.ctx, 'S-100', lineId)).toMatchObject({ seatsEntitled: 10, seatsIssued: 10, seatsRemaining: 0 });
    expect(await codeOf(() => generateCodes(kc.ctx, ada, { lineId, seats: 1 }))).toBe('SEATS_EXHAUSTED');
    const key = await kc.activate({ authCode: c1!.authCode, lockCodes: [lock(1)] }, { actor: 'api' });
    const verdict = verifyLicenseKey(key.keyText, { vendorKeys: [vendorKey], nowMs: T0 });
    expect(verdict.ok && verdict.license).toMatchObject({ seats: 4, orderNumber: 'CO-1', comment: 'lab' });
    expect(key.siteNumber).toBe('S-100');
    expect((await lineSummary(kc.ctx, 'S-100', lineId)).codes.map((c) => c.seatsActivated)).toEqual([4, 0]);
  });

  it('an authorized-user bundle line gives one code per component, or one per user and component', async () => {
    const { kc } = await withAccount();
    const added = await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    const ada = await scopeOf(kc, 'S-100', 'ada@example.com');
    const lineId = added.lines[1]!.lineId;
    const one = await generateCodes(kc.ctx, ada, { lineId, seats: 4 });
    expect(one.map((c) => [c.component, c.seats])).toEqual([
      ['base', 4],
      ['amos', 4],
    ]);
    const perUser = await generateCodes(kc.ctx, ada, { lineId, seats: 2, split: 'per-user' });
    expect(perUser.map((c) => [c.component, c.seats])).toEqual([
      ['base', 1],
      ['amos', 1],
      ['base', 1],
      ['amos', 1],
    ]);
    expect(await codeOf(() => generateCodes(kc.ctx, ada, { lineId: added.lines[0]!.lineId, seats: 2, split: 'per-user' }))).toBe('BAD_REQUEST');
  });

  it('a temporary code from a perpetual line gives its seats back when it ends', async () => {
    const { kc, clock } = await withAccount();
    const added = await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    const ada = await scopeOf(kc, 'S-100', 'ada@example.com');
    const lineId = added.lines[0]!.lineId;
    const [temp] = await generateCodes(kc.ctx, ada, { lineId, seats: 10, expiresAt: T0 + 30 * DAY_MS });
    expect(temp?.expiresAt).toBe(T0 + 30 * DAY_MS);
    expect((await lineSummary(kc.ctx, 'S-100', lineId)).seatsRemaining).toBe(0);
    clock.nowMs = T0 + 31 * DAY_MS;
    expect((await lineSummary(kc.ctx, 'S-100', lineId)).seatsRemaining).toBe(10);
    expect(await codeOf(() => kc.activate({ authCode: temp!.authCode, lockCodes: [lock(1)] }))).toBe('ENTITLEMENT_EXPIRED');
    expect(await codeOf(() => generateCodes(kc.ctx, ada, { lineId, seats: 1, expiresAt: T0 }))).toBe('BAD_REQUEST');
  });

  it("a member reaches only their account's lines and codes: another account's are NOT_FOUND", async () => {
    const { kc } = await withAccount();
    await createAccount(kc.ctx, { siteNumber: 'S-200', companyName: 'Other' }, 'cli');
    const mine = await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    const theirs = await addOrder(kc.ctx, 'S-200', order('CO-2', { contacts: [{ email: 'bob@other.example', name: 'Bob', role: 'primary' }] }), 'cli');
    const ada = await scopeOf(kc, 'S-100', 'ada@example.com');
    const bob = await scopeOf(kc, 'S-200', 'bob@other.example');
    const [theirCode] = await generateCodes(kc.ctx, bob, { lineId: theirs.lines[0]!.lineId, seats: 1 });
    expect(await codeOf(() => generateCodes(kc.ctx, ada, { lineId: theirs.lines[0]!.lineId, seats: 1 }))).toBe('NOT_FOUND');
    expect(await codeOf(() => lineSummary(kc.ctx, 'S-100', theirs.lines[0]!.lineId))).toBe('NOT_FOUND');
    expect(await codeOf(() => orderOf(kc.ctx, 'S-100', theirs.orderId))).toBe('NOT_FOUND');
    expect(await codeOf(() => codeOfLine(kc.ctx, 'S-100', theirCode!.authCode))).toBe('NOT_FOUND');
    expect(await codeOf(() => kc.activate({ authCode: theirCode!.authCode, lockCodes: [lock(1)] }, { actor: 'user:ada', scope: ada }))).toBe('NOT_FOUND');
    const key = await kc.activate({ authCode: theirCode!.authCode, lockCodes: [lock(1)] }, { actor: 'api' });
    expect(await codeOf(() => kc.key(key.licenseId, ada))).toBe('NOT_FOUND');
    expect(await codeOf(() => kc.rehost({ licenseId: key.licenseId, lockCodes: [lock(2)] }, { actor: 'user:ada', scope: ada }))).toBe('NOT_FOUND');
    expect((await kc.listKeys({ siteNumber: 'S-100' })).map((k) => k.licenseId)).toEqual([]);
    expect((await orderOf(kc.ctx, 'S-100', mine.orderId)).customerOrderNumber).toBe('CO-1');
  });
});

describe('members', () => {
  it('an admin adds a member (welcome mail); a plain member may not; an existing person gets "added" instead', async () => {
    const { kc } = await withAccount();
    await createAccount(kc.ctx, { siteNumber: 'S-200', companyName: 'Other' }, 'cli');
    await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    await addOrder(kc.ctx, 'S-200', order('CO-2', { contacts: [{ email: 'bob@other.example', name: 'Bob', role: 'primary' }] }), 'cli');
    const ada = await scopeOf(kc, 'S-100', 'ada@example.com');
    const carol = await addMember(kc.ctx, { scope: ada }, { email: 'carol@example.com', name: 'Carol', role: 'member' });
    expect(carol).toMatchObject({ email: 'carol@example.com', role: 'member', siteNumber: 'S-100' });
    expect((await queuedMail(kc)).at(-1)).toMatchObject({ to: 'carol@example.com', subject: 'Welcome to the Floe Key Center' });
    const carolScope = await scopeOf(kc, 'S-100', 'carol@example.com');
    expect(await codeOf(() => addMember(kc.ctx, { scope: carolScope }, { email: 'dan@example.com', name: 'Dan' }))).toBe('FORBIDDEN');
    expect(await codeOf(() => addMember(kc.ctx, { scope: ada }, { email: 'CAROL@example.com', name: 'Carol' }))).toBe('MEMBER_EXISTS');
    await setPasswordWithToken(kc.ctx, { token: await mailedToken(kc, 'ada@example.com', '/set-password/'), purpose: 'set-password', password: 'correct horse battery' });
    await addMember(kc.ctx, { siteNumber: 'S-200', actor: 'vendor:ann' }, { email: 'ada@example.com', name: 'Ada' });
    expect((await queuedMail(kc)).at(-1)).toMatchObject({ to: 'ada@example.com', subject: 'You were added to account S-200' });
    expect(await codeOf(() => removeMember(kc.ctx, carolScope, ada.userId))).toBe('FORBIDDEN');
    await removeMember(kc.ctx, ada, carolScope.userId);
    expect(await codeOf(() => removeMember(kc.ctx, ada, carolScope.userId))).toBe('NOT_FOUND');
    const tech = await scopeOf(kc, 'S-100', 'tech@example.com');
    await removeMember(kc.ctx, ada, tech.userId);
    expect(await codeOf(() => removeMember(kc.ctx, ada, ada.userId))).toBe('FORBIDDEN');
  });

  it('asking to join with the site number and an order number reaches the admins, who approve once', async () => {
    const { kc } = await withAccount();
    await addOrder(kc.ctx, 'S-100', order('CO-1'), 'cli');
    const ada = await scopeOf(kc, 'S-100', 'ada@example.com');
    await requestToJoin(kc.ctx, { siteNumber: 'S-100', orderNumber: 'CO-404', email: 'eve@example.com', name: 'Eve' });
    await requestToJoin(kc.ctx, { siteNumber: 'S-404', orderNumber: 'CO-1', email: 'eve@example.com', name: 'Eve' });
    expect(await pendingJoinRequests(kc.ctx, ada)).toEqual([]);
    await requestToJoin(kc.ctx, { siteNumber: 'S-100', orderNumber: 'CO-1', email: 'Eve@example.com', name: 'Eve' });
    const [request] = await pendingJoinRequests(kc.ctx, ada);
    expect(request).toMatchObject({ email: 'eve@example.com', orderNumber: 'CO-1' });
    expect((await queuedMail(kc)).slice(-2).map((m) => [m.to, m.subject])).toEqual([
      ['ada@example.com', 'Eve asks to join account S-100'],
      ['tech@example.com', 'Eve asks to join account S-100'],
    ]);
    await decideJoinRequest(kc.ctx, ada, request!.requestId, true);
    expect(await codeOf(() => decideJoinRequest(kc.ctx, ada, request!.requestId, false))).toBe('JOIN_REQUEST_DECIDED');
    expect((await kc.ctx.store.read((q) => q.membersOf('S-100'))).map((m) => m.email)).toContain('eve@example.com');
    expect((await queuedMail(kc)).at(-1)).toMatchObject({ to: 'eve@example.com', subject: 'Welcome to the Floe Key Center' });
  });
});
