import { describe, expect, it } from 'vitest';
import { addOrder, createAccount } from './accounts.ts';
import { codeOf, mailedToken, queuedMail, T0, testKeyCenter } from './key-center.test-support.ts';
import type { KeyCenter } from './key-center.ts';
import {
  changePassword,
  chooseAccount,
  hashPassword,
  requestPasswordReset,
  sessionFor,
  SESSION_TTL_MS,
  setPasswordWithToken,
  signIn,
  userOfToken,
  verifyPassword,
} from './member-auth.ts';

const PASSWORD = 'correct horse battery';

async function member(options: Parameters<typeof testKeyCenter>[0] = {}): Promise<{ kc: KeyCenter; clock: { nowMs: number } }> {
  const t = await testKeyCenter(options);
  for (const site of ['S-1', 'S-2']) {
    await createAccount(t.kc.ctx, { siteNumber: site, companyName: `Company ${site}` }, 'cli');
    await addOrder(t.kc.ctx, site, { customerOrderNumber: `CO-${site}`, contacts: [{ email: 'ada@example.com', name: 'Ada', role: 'primary' }], lines: [{ product: 'stats', version: '29', model: 'concurrent', quantity: 1 }] }, 'cli');
  }
  return t;
}

describe('passwords', () => {
  it('hashes with scrypt and a salt of its own per password', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword('Correct horse battery', a)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'garbage')).toBe(false);
  });

  it('the welcome link sets a first password once; then the member signs in', async () => {
    const { kc } = await member();
    const token = await mailedToken(kc, 'ada@example.com', '/set-password/');
    expect((await userOfToken(kc.ctx, token, 'set-password'))?.email).toBe('ada@example.com');
    expect(await codeOf(() => setPasswordWithToken(kc.ctx, { token, purpose: 'set-password', password: 'short' }))).toBe('PASSWORD_TOO_WEAK');
    await setPasswordWithToken(kc.ctx, { token, purpose: 'set-password', password: PASSWORD });
    expect(await codeOf(() => setPasswordWithToken(kc.ctx, { token, purpose: 'set-password', password: PASSWORD }))).toBe('TOKEN_INVALID');
    expect(await userOfToken(kc.ctx, token, 'set-password')).toBeUndefined();
    const { sessionId } = await signIn(kc.ctx, { email: ' ADA@example.com', password: PASSWORD, address: '10.0.0.1' });
    expect((await sessionFor(kc.ctx, sessionId))?.user.email).toBe('ada@example.com');
  });

  it('a wrong password and an unknown e-mail get the same answer', async () => {
    const { kc } = await member();
    await setPasswordWithToken(kc.ctx, { token: await mailedToken(kc, 'ada@example.com', '/set-password/'), purpose: 'set-password', password: PASSWORD });
    expect(await codeOf(() => signIn(kc.ctx, { email: 'ada@example.com', password: 'wrong password', address: 'a' }))).toBe('INVALID_CREDENTIALS');
    expect(await codeOf(() => signIn(kc.ctx, { email: 'nobody@example.com', password: PASSWORD, address: 'a' }))).toBe('INVALID_CREDENTIALS');
    expect(await codeOf(() => signIn(kc.ctx, { email: 'tech@example.com', password: '', address: 'a' }))).toBe('INVALID_CREDENTIALS');
  });

  it('sign-in is rate-limited per e-mail, whatever the address', async () => {
    const { kc } = await member({ rateLimits: { signInPerEmail: { hitsMax: 3, windowMs: 60_000 } } });
    await setPasswordWithToken(kc.ctx, { token: await mailedToken(kc, 'ada@example.com', '/set-password/'), purpose: 'set-password', password: PASSWORD });
    for (let i = 0; i < 3; i++) expect(await codeOf(() => signIn(kc.ctx, { email: 'ada@example.com', password: 'guess', address: `10.0.0.${i}` }))).toBe('INVALID_CREDENTIALS');
    await expect(signIn(kc.ctx, { email: 'ada@example.com', password: PASSWORD, address: '10.0.0.9' })).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
  });

  it('a lost password gets a one-time reset link by mail (never the password), which signs out every session', async () => {
    const { kc } = await member();
    await setPasswordWithToken(kc.ctx, { token: await mailedToken(kc, 'ada@example.com', '/set-password/'), purpose: 'set-password', password: PASSWORD });
    const { sessionId } = await signIn(kc.ctx, { email: 'ada@example.com', password: PASSWORD, address: 'a' });
    await requestPasswordReset(kc.ctx, { email: 'nobody@example.com', address: 'a' });
    const before = (await queuedMail(kc)).length;
    await requestPasswordReset(kc.ctx, { email: 'ada@example.com', address: 'a' });
    const mail = (await queuedMail(kc)).at(-1)!;
    expect((await queuedMail(kc)).length).toBe(before + 1);
    expect(mail.text).not.toContain(PASSWORD);
    const token = await mailedToken(kc, 'ada@example.com', '/reset-password/');
    expect(await codeOf(() => setPasswordWithToken(kc.ctx, { token, purpose: 'set-password', password: 'another good one' }))).toBe('TOKEN_INVALID');
    await setPasswordWithToken(kc.ctx, { token, purpose: 'reset-password', password: 'another good one' });
    expect(await sessionFor(kc.ctx, sessionId)).toBeUndefined();
    expect(await codeOf(() => signIn(kc.ctx, { email: 'ada@example.com', password: PASSWORD, address: 'a' }))).toBe('INVALID_CREDENTIALS');
    expect(await codeOf(() => signIn(kc.ctx, { email: 'ada@example.com', password: 'another good one', address: 'a' }))).toBe('OK');
  });

  it('changing a password needs the current one and keeps only this session', async () => {
    const { kc } = await member();
    await setPasswordWithToken(kc.ctx, { token: await mailedToken(kc, 'ada@example.com', '/set-password/'), purpose: 'set-password', password: PASSWORD });
    const here = await signIn(kc.ctx, { email: 'ada@example.com', password: PASSWORD, address: 'a' });
    const elsewhere = await signIn(kc.ctx, { email: 'ada@example.com', password: PASSWORD, address: 'b' });
    const view = (await sessionFor(kc.ctx, here.sessionId))!;
    expect(await codeOf(() => changePassword(kc.ctx, view, { current: 'wrong', next: 'a new good one' }))).toBe('PASSWORD_WRONG');
    await changePassword(kc.ctx, view, { current: PASSWORD, next: 'a new good one' });
    expect(await sessionFor(kc.ctx, here.sessionId)).toBeDefined();
    expect(await sessionFor(kc.ctx, elsewhere.sessionId)).toBeUndefined();
  });
});

describe('sessions and accounts', () => {
  it('a member of several accounts picks one after sign-in and may switch only to their own', async () => {
    const { kc, clock } = await member();
    await createAccount(kc.ctx, { siteNumber: 'S-3', companyName: 'Not hers' }, 'cli');
    await setPasswordWithToken(kc.ctx, { token: await mailedToken(kc, 'ada@example.com', '/set-password/'), purpose: 'set-password', password: PASSWORD });
    const { sessionId } = await signIn(kc.ctx, { email: 'ada@example.com', password: PASSWORD, address: 'a' });
    let view = (await sessionFor(kc.ctx, sessionId))!;
    expect(view.siteNumber).toBeNull();
    expect(view.memberships.map((m) => m.siteNumber)).toEqual(['S-1', 'S-2']);
    await chooseAccount(kc.ctx, view, 'S-2');
    view = (await sessionFor(kc.ctx, sessionId))!;
    expect(view.siteNumber).toBe('S-2');
    expect(await codeOf(() => chooseAccount(kc.ctx, view, 'S-3'))).toBe('NOT_FOUND');
    clock.nowMs = T0 + SESSION_TTL_MS;
    expect(await sessionFor(kc.ctx, sessionId)).toBeUndefined();
  });
});
