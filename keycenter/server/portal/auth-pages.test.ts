import { describe, expect, it } from 'vitest';
import { addMember } from '../../members.ts';
import { mailedToken, queuedMail } from '../../key-center.test-support.ts';
import { ANON_COOKIE } from '../csrf.ts';
import { SESSION_COOKIE } from '../session-cookie.ts';
import { PASSWORD, testServer } from '../server.test-support.ts';
import { PortalBrowser, textOf } from './portal.test-support.ts';

describe('signing in', () => {
  it('a member signs in with e-mail and password and lands on their codes; the cookie is HTTP-only, Secure and SameSite', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const browser = new PortalBrowser(s.app);
    const page = await browser.get('/sign-in');
    expect(page.html).toMatch(/<label for="f-email">E-mail address<\/label>\s*<input id="f-email" name="email" type="email"/);
    expect(page.html).toContain('<label for="f-password">Password</label>');
    const res = await s.app.request(
      '/sign-in',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${ANON_COOKIE}=${browser.cookie(ANON_COOKIE)}` },
        body: new URLSearchParams({ email: 'ada@example.com', password: PASSWORD, _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1]! }).toString(),
      },
      { incoming: { socket: { remoteAddress: '192.0.2.10' } } },
    );
    expect([res.status, res.headers.get('location')]).toEqual([303, '/codes']);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const codes = await new PortalBrowser(s.app).signIn('ada@example.com', PASSWORD);
    expect(codes.location).toBe('/codes');
  });

  it('a wrong password shows one sentence for both an unknown e-mail and a wrong password, and signs nobody in', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const browser = new PortalBrowser(s.app);
    const wrong = await browser.signIn('ada@example.com', 'not my password');
    const unknown = await browser.signIn('nobody@example.com', PASSWORD);
    expect(wrong.status).toBe(401);
    expect(textOf(wrong.html)).toContain('the e-mail address or the password is not right');
    expect(textOf(unknown.html)).toContain('the e-mail address or the password is not right');
    expect(browser.cookie(SESSION_COOKIE)).toBeUndefined();
    expect((await browser.get('/codes')).location).toBe('/sign-in?next=%2Fcodes');
  });

  it('sign-in is rate-limited per address: the page says so and gives Retry-After', async () => {
    const s = await testServer({ rateLimits: { signInPerAddress: { hitsMax: 3, windowMs: 60_000 } } });
    await s.account('S-1', 'ada@example.com');
    const browser = new PortalBrowser(s.app, '198.51.100.20');
    for (let i = 0; i < 3; i++) expect((await browser.signIn('ada@example.com', `guess ${i}`)).status).toBe(401);
    const limited = await browser.signIn('ada@example.com', PASSWORD);
    expect(limited.status).toBe(429);
    expect(textOf(limited.html)).toMatch(/too many attempts; try again in \d+ s/);
    expect(browser.cookie(SESSION_COOKIE)).toBeUndefined();
    expect((await new PortalBrowser(s.app, '198.51.100.21').signIn('ada@example.com', PASSWORD)).location).toBe('/codes');
  });

  it('a member of several accounts chooses one after sign-in, and switches later', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    await s.account('S-2', 'bob@example.com');
    await addMember(s.kc.ctx, { siteNumber: 'S-2', actor: 'cli' }, { email: 'ada@example.com', name: 'Ada' });
    const browser = new PortalBrowser(s.app);
    const after = await browser.signIn('ada@example.com', PASSWORD);
    expect(after.location).toBe('/accounts');
    const chooser = await browser.follow(after);
    expect(textOf(chooser.html)).toContain('Choose an account');
    expect(textOf(chooser.html)).toContain('Company S-2 Site S-2 · Member');
    expect((await browser.get('/codes')).location).toBe('/accounts');
    const chosen = await browser.post('/accounts', { siteNumber: 'S-2' });
    const codes = await browser.follow(chosen);
    expect(textOf(codes.html)).toContain('Company S-2 · Site S-2');
    expect(codes.html).toContain('href="/accounts"');
    await browser.get('/accounts');
    const foreign = await browser.post('/accounts', { siteNumber: 'S-3' });
    expect(foreign.status).toBe(404);
  });
});

describe('CSRF', () => {
  it('every form carries a token, and a POST without it, or with another browser\'s, changes nothing (403)', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const ada = new PortalBrowser(s.app);
    await ada.signIn('ada@example.com', PASSWORD);
    const members = await ada.get('/members');
    expect(members.html.match(/name="_csrf"/g)?.length).toBeGreaterThanOrEqual(2);
    const bare = await ada.post('/members', { email: 'eve@example.com', name: 'Eve' }, false);
    expect(bare.status).toBe(403);
    expect(textOf(bare.html)).toContain('This form has expired');
    const eve = new PortalBrowser(s.app);
    await eve.get('/sign-in');
    const forged = /name="_csrf" value="([^"]+)"/.exec((await eve.get('/sign-in')).html)![1]!;
    expect((await ada.post('/members', { email: 'eve@example.com', name: 'Eve' }, forged)).status).toBe(403);
    expect((await ada.post('/sign-out', {}, 'x'.repeat(43))).status).toBe(403);
    const list = await s.kc.ctx.store.read((q) => q.membersOf('S-1'));
    expect(list.map((m) => m.email)).toEqual(['ada@example.com']);
    // Before sign-in too: the sign-in form needs the token of this browser.
    const stranger = new PortalBrowser(s.app);
    expect((await stranger.post('/sign-in', { email: 'ada@example.com', password: PASSWORD }, false)).status).toBe(403);
    expect(stranger.cookie(SESSION_COOKIE)).toBeUndefined();
  });

  it('signing out needs the token and ends the session', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const browser = new PortalBrowser(s.app);
    await browser.signIn('ada@example.com', PASSWORD);
    await browser.get('/codes');
    const out = await browser.post('/sign-out', {});
    expect(out.location).toBe('/sign-in?done=signed-out');
    expect((await browser.get('/codes')).location).toBe('/sign-in?next=%2Fcodes');
  });
});

describe('passwords in the portal', () => {
  it('the welcome link sets a password once; used again it says the link no longer works', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    await addMember(s.kc.ctx, { siteNumber: 'S-1', actor: 'cli' }, { email: 'carol@example.com', name: 'Carol' });
    const token = await mailedToken(s.kc, 'carol@example.com', '/set-password/');
    const browser = new PortalBrowser(s.app);
    const form = await browser.get(`/set-password/${token}`);
    expect(form.html).toMatch(/<input id="f-email" name="email" type="email" value="carol@example.com" readonly=""/);
    const differ = await browser.post(`/set-password/${token}`, { password: 'a long password', repeat: 'another one!' });
    expect([differ.status, textOf(differ.html)]).toEqual([400, expect.stringContaining('the two passwords differ')]);
    const weak = await browser.post(`/set-password/${token}`, { password: 'short', repeat: 'short' });
    expect(textOf(weak.html)).toContain('a password has at least 10 characters');
    const done = await browser.post(`/set-password/${token}`, { password: 'a long password', repeat: 'a long password' });
    expect(done.location).toBe('/sign-in?done=password-set');
    expect(textOf((await browser.follow(done)).html)).toContain('Your password is set.');
    expect((await browser.get(`/set-password/${token}`)).status).toBe(410);
    expect((await browser.signIn('carol@example.com', 'a long password')).location).toBe('/codes');
  });

  it('a lost password: the page mails a one-time link (never the password), the same answer for an unknown address', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const browser = new PortalBrowser(s.app);
    await browser.get('/forgot-password');
    const unknown = await browser.post('/forgot-password', { email: 'nobody@example.com' });
    const known = await browser.post('/forgot-password', { email: 'ada@example.com' });
    expect(textOf(unknown.html).replace('nobody@example.com', 'X')).toBe(textOf(known.html).replace('ada@example.com', 'X'));
    const mail = (await queuedMail(s.kc)).at(-1)!;
    expect(mail.to).toBe('ada@example.com');
    expect(mail.text).not.toContain(PASSWORD);
    const token = await mailedToken(s.kc, 'ada@example.com', '/reset-password/');
    await browser.get(`/reset-password/${token}`);
    expect((await browser.post(`/reset-password/${token}`, { password: 'my new password', repeat: 'my new password' })).location).toBe('/sign-in?done=password-set');
    expect((await browser.signIn('ada@example.com', PASSWORD)).status).toBe(401);
    expect((await browser.signIn('ada@example.com', 'my new password')).location).toBe('/codes');
  });

  it('the profile shows e-mail and company without a way to edit them; the password changes given the current one', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const browser = new PortalBrowser(s.app);
    await browser.signIn('ada@example.com', PASSWORD);
    const profile = await browser.get('/profile');
    expect(textOf(profile.html)).toContain('E-mail address ada@example.com Company Company S-1');
    expect(textOf(profile.html)).toContain('neither can be changed here');
    expect(profile.html).not.toMatch(/<input[^>]*name="companyName"/);
    expect((await browser.post('/profile', { email: 'mallory@example.com' })).status).toBe(404);
    const wrong = await browser.post('/profile/password', { currentPassword: 'nope', newPassword: 'another password', repeat: 'another password' });
    expect([wrong.status, textOf(wrong.html)]).toEqual([400, expect.stringContaining('the current password is not right')]);
    expect(wrong.html).toMatch(/id="f-currentPassword"[^>]*aria-invalid="true"/);
    const ok = await browser.post('/profile/password', { currentPassword: PASSWORD, newPassword: 'another password', repeat: 'another password' });
    expect(ok.location).toBe('/profile?done=password-changed');
    expect((await new PortalBrowser(s.app).signIn('ada@example.com', 'another password')).location).toBe('/codes');
  });
});

describe('joining an account', () => {
  it('anyone asks with the site number and an order number; an admin approves on the members page', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const eve = new PortalBrowser(s.app);
    await eve.get('/join');
    const sent = await eve.post('/join', { name: 'Eve', email: 'eve@example.com', siteNumber: 'S-1', orderNumber: 'CO-S-1' });
    expect(textOf(sent.html)).toContain('Your request is sent.');
    const wrongOrder = await eve.post('/join', { name: 'Eve', email: 'eve@example.com', siteNumber: 'S-1', orderNumber: 'CO-X' });
    expect(textOf(wrongOrder.html)).toContain('Your request is sent.');
    const ada = new PortalBrowser(s.app);
    await ada.signIn('ada@example.com', PASSWORD);
    const members = await ada.get('/members');
    expect(textOf(members.html)).toContain('Requests to join Name E-mail Order number given Asked Eve eve@example.com CO-S-1');
    const requestId = /action="\/members\/requests\/([^"]+)"/.exec(members.html)![1]!;
    const approved = await ada.post(`/members/requests/${requestId}`, { decision: 'approve' });
    expect(approved.location).toBe('/members?done=approved');
    expect(textOf((await ada.follow(approved)).html)).toContain('eve@example.com Member');
    expect((await queuedMail(s.kc)).at(-1)).toMatchObject({ to: 'eve@example.com', subject: 'Welcome to the Floe Key Center' });
    expect((await ada.post(`/members/requests/${requestId}`, { decision: 'decline' })).status).toBe(409);
  });
});
