import { describe, expect, it } from 'vitest';
import { signedRequestFile } from '../../../protocol/activation-request-file.test-support.ts';
import { lock, mailedToken, queuedMail } from '../../key-center.test-support.ts';
import { requestPasswordReset } from '../../member-auth.ts';
import { addMember, requestToJoin } from '../../members.ts';
import { SESSION_COOKIE } from '../session-cookie.ts';
import { PASSWORD, testServer, type TestServer } from '../server.test-support.ts';
import { PORTAL_FORM_BYTES_MAX } from './portal-pages.tsx';
import { csrfOf, PortalBrowser, textOf } from './portal.test-support.ts';

/** What a form could change: members, codes, keys, requests, passwords, mail and the audit trail. */
async function stateOf(s: TestServer): Promise<string> {
  return JSON.stringify(
    await s.kc.ctx.store.read(async (q) => ({
      members: await q.membersOf('S-1'),
      codes: await q.entitlements({}),
      keys: await q.keys({}),
      requests: await q.joinRequestsOf('S-1', 'pending'),
      users: await Promise.all(['ada@example.com', 'carol@example.com'].map((e) => q.userByEmail(e))),
      mails: await q.mails(1000),
      audit: await q.audit({ limit: 1000 }),
    })),
  );
}

describe('every form of the portal', () => {
  it('serves an icon at /favicon.ico, signed in or not (browsers ask for it on every page)', async () => {
    const s = await testServer();
    const res = await s.request('/favicon.ico');
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/x-icon']);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);
    expect(Buffer.from(bytes.subarray(23, 26)).toString('latin1')).toBe('PNG');
  });

  it('refuses a POST without its CSRF token, or with another browser\'s, with 403 — every form route, each of which works with it — and changes nothing', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    await addMember(s.kc.ctx, { siteNumber: 'S-1', actor: 'cli' }, { email: 'carol@example.com', name: 'Carol' });
    const carolToken = await mailedToken(s.kc, 'carol@example.com', '/set-password/');
    await requestPasswordReset(s.kc.ctx, { email: 'ada@example.com', address: 'test' });
    const adaReset = await mailedToken(s.kc, 'ada@example.com', '/reset-password/');
    await requestToJoin(s.kc.ctx, { siteNumber: 'S-1', orderNumber: 'CO-S-1', email: 'frank@example.com', name: 'Frank' });
    const [request] = await s.kc.ctx.store.read((q) => q.joinRequestsOf('S-1', 'pending'));
    const carol = await s.kc.ctx.store.read((q) => q.userByEmail('carol@example.com'));
    const userLine = a.order.lines[1]!.lineId;

    const [offline] = await s.kc.entitle({ product: 'offline', version: '1', model: 'concurrent', seats: 1 });
    // Each form route with fields it accepts, in an order in which each succeeds; `anonymous`: sent signed out.
    const forms: Record<string, { path: string; fields: Record<string, string>; anonymous?: true }> = {
      '/sign-in': { path: '/sign-in', fields: { email: 'ada@example.com', password: PASSWORD }, anonymous: true },
      '/accounts': { path: '/accounts', fields: { siteNumber: 'S-1' } },
      '/lines/:lineId/generate': { path: `/lines/${userLine}/generate`, fields: { seats: '2', split: 'one-code', endDate: '' } },
      '/lines/:lineId/codes': { path: `/lines/${userLine}/codes`, fields: { seats: '2', split: 'one-code', endDate: '', comment: 'x' } },
      '/codes/:authCode/activate': { path: `/codes/${a.code.authCode}/activate`, fields: { servers: '1', hostMode: 'new', lockCode0: lock(1) } },
      '/codes/:authCode/activations': { path: `/codes/${a.code.authCode}/activations`, fields: { servers: '1', hostMode: 'new', lockCode0: lock(1) } },
      '/members': { path: '/members', fields: { email: 'eve@example.com', name: 'Eve' } },
      '/members/requests/:requestId': { path: `/members/requests/${request!.requestId}`, fields: { decision: 'approve' } },
      '/members/:userId/remove': { path: `/members/${carol!.userId}/remove`, fields: {} },
      '/profile/password': { path: '/profile/password', fields: { currentPassword: PASSWORD, newPassword: 'another password', repeat: 'another password' } },
      '/sign-out': { path: '/sign-out', fields: {} },
      '/forgot-password': { path: '/forgot-password', fields: { email: 'ada@example.com' }, anonymous: true },
      '/join': { path: '/join', fields: { name: 'Gus', email: 'gus@example.com', siteNumber: 'S-1', orderNumber: 'CO-S-1' }, anonymous: true },
      '/set-password/:token': { path: `/set-password/${carolToken}`, fields: { password: 'a long password', repeat: 'a long password' }, anonymous: true },
      '/reset-password/:token': { path: `/reset-password/${adaReset}`, fields: { password: 'a new password', repeat: 'a new password' }, anonymous: true },
      '/activate/request-file': { path: '/activate/request-file', fields: { requestText: JSON.stringify(signedRequestFile(offline!.authCode)) }, anonymous: true },
    };
    const portalPosts = new Set(s.app.routes.filter((r) => r.method === 'POST' && !r.path.startsWith('/api/')).map((r) => r.path));
    expect([...portalPosts].sort(), 'a new form route: add it here').toEqual(Object.keys(forms).sort());

    const ada = new PortalBrowser(s.app);
    await ada.signIn('ada@example.com', PASSWORD);
    await ada.get('/codes');
    const stranger = new PortalBrowser(s.app);
    const strangersToken = csrfOf((await stranger.get('/sign-in')).html);
    const before = await stateOf(s);
    for (const { path, fields, anonymous } of Object.values(forms)) {
      const browser = anonymous ? new PortalBrowser(s.app) : ada;
      if (anonymous) await browser.get('/sign-in');
      for (const token of [false, strangersToken, ''] as const) {
        const page = await browser.post(path, fields, token);
        expect(page.status, `${path} with ${token === false ? 'no token' : `token "${token}"`}`).toBe(403);
        expect(textOf(page.html)).toContain('This form has expired');
      }
      expect(browser.cookie(SESSION_COOKIE) === undefined, path).toBe(anonymous === true);
    }
    expect(await stateOf(s)).toBe(before);
    expect((await ada.get('/codes')).status, 'still signed in').toBe(200);

    // The same forms with the page's token: each goes through.
    for (const { path, fields, anonymous } of Object.values(forms)) {
      const browser = anonymous ? new PortalBrowser(s.app) : ada;
      await browser.get(anonymous ? '/sign-in' : '/codes');
      const page = await browser.post(path, fields);
      expect(page.status, `${path}: ${textOf(page.html).slice(0, 300)}`).toBeLessThan(400);
    }
    expect(await stateOf(s)).not.toBe(before);
  });

  it(`refuses a form body over ${PORTAL_FORM_BYTES_MAX / 1024} KiB with 413 before reading it, signed in or not, and changes nothing`, async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    const ada = new PortalBrowser(s.app);
    await ada.signIn('ada@example.com', PASSWORD);
    await ada.get('/members');
    const before = await stateOf(s);
    const huge = 'x'.repeat(PORTAL_FORM_BYTES_MAX);
    const added = await ada.post('/members', { email: 'eve@example.com', name: 'Eve', padding: huge });
    expect([added.status, textOf(added.html)]).toEqual([413, expect.stringContaining('This form is too large')]);
    const stranger = new PortalBrowser(s.app);
    await stranger.get('/join');
    const join = await stranger.post('/join', { name: 'Eve', email: 'eve@example.com', siteNumber: 'S-1', orderNumber: 'CO-S-1', padding: huge });
    expect(join.status).toBe(413);
    expect(await stateOf(s)).toBe(before);
    // A form of ordinary size still works.
    expect((await ada.post('/members', { email: 'eve@example.com', name: 'Eve' })).location).toBe('/members?done=added');
  });
});

describe('the portal after a store failure', () => {
  it('a store that fails once while the CSRF secret is first read answers 500 then, and serves the next request', async () => {
    const s = await testServer();
    const store = s.kc.ctx.store;
    const transaction = store.transaction.bind(store);
    let failuresLeft = 1;
    store.transaction = (fn) => (failuresLeft-- > 0 ? Promise.reject(new Error('SQLITE_BUSY: database is locked')) : transaction(fn));
    const browser = new PortalBrowser(s.app);
    expect((await browser.get('/sign-in')).status).toBe(500);
    const again = await browser.get('/sign-in');
    expect(again.status).toBe(200);
    expect(csrfOf(again.html)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('rate limits of the signed-out forms', () => {
  it('lost-password links are limited per e-mail and per address: 429 with Retry-After, and no more mail until the window ends', async () => {
    const hour = 3_600_000;
    const s = await testServer({
      rateLimits: { passwordResetPerEmail: { hitsMax: 2, windowMs: hour }, passwordResetPerAddress: { hitsMax: 3, windowMs: hour } },
    });
    await s.account('S-1', 'ada@example.com');
    await addMember(s.kc.ctx, { siteNumber: 'S-1', actor: 'cli' }, { email: 'carol@example.com', name: 'Carol' });
    const resetMails = async (to: string) => (await queuedMail(s.kc)).filter((m) => m.to === to && m.text.includes('/reset-password/')).length;
    const ask = async (address: string, email: string) => {
      const browser = new PortalBrowser(s.app, address);
      const form = await browser.get('/forgot-password');
      return s.app.request('/forgot-password', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `floe_kc_anon=${browser.cookie('floe_kc_anon')}` },
        body: new URLSearchParams({ email, _csrf: csrfOf(form.html) }).toString(),
      }, { incoming: { socket: { remoteAddress: address } } });
    };
    expect((await ask('198.51.100.1', 'ada@example.com')).status).toBe(200);
    expect((await ask('198.51.100.2', 'ada@example.com')).status).toBe(200);
    const perEmail = await ask('198.51.100.3', 'ada@example.com');
    expect(perEmail.status).toBe(429);
    expect(Number(perEmail.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(textOf(await perEmail.text())).toMatch(/too many attempts; try again in \d+ s/);
    expect(await resetMails('ada@example.com')).toBe(2);

    // One address asking for many e-mails is stopped too.
    expect((await ask('198.51.100.9', 'carol@example.com')).status).toBe(200);
    expect((await ask('198.51.100.9', 'nobody@example.com')).status).toBe(200);
    expect((await ask('198.51.100.9', 'noone@example.com')).status).toBe(200);
    expect((await ask('198.51.100.9', 'carol@example.com')).status).toBe(429);
    expect(await resetMails('carol@example.com')).toBe(1);

    s.clock.nowMs += hour;
    expect((await ask('198.51.100.3', 'ada@example.com')).status).toBe(200);
    expect(await resetMails('ada@example.com')).toBe(3);
  });

  it('join requests are limited per address: 429 with Retry-After, and the request is not recorded', async () => {
    const s = await testServer({ rateLimits: { joinRequestPerAddress: { hitsMax: 2, windowMs: 3_600_000 } } });
    await s.account('S-1', 'ada@example.com');
    const eve = new PortalBrowser(s.app, '203.0.113.5');
    await eve.get('/join');
    for (const name of ['Eve', 'Fay']) {
      const sent = await eve.post('/join', { name, email: `${name.toLowerCase()}@example.com`, siteNumber: 'S-1', orderNumber: 'CO-S-1' });
      expect(textOf(sent.html)).toContain('Your request is sent.');
    }
    const limited = await eve.post('/join', { name: 'Gus', email: 'gus@example.com', siteNumber: 'S-1', orderNumber: 'CO-S-1' });
    expect([limited.status, textOf(limited.html)]).toEqual([429, expect.stringMatching(/Too many attempts/)]);
    const pending = await s.kc.ctx.store.read((q) => q.joinRequestsOf('S-1', 'pending'));
    expect(pending.map((r) => r.email)).toEqual(['eve@example.com', 'fay@example.com']);
    const elsewhere = new PortalBrowser(s.app, '203.0.113.6');
    await elsewhere.get('/join');
    expect(textOf((await elsewhere.post('/join', { name: 'Gus', email: 'gus@example.com', siteNumber: 'S-1', orderNumber: 'CO-S-1' })).html)).toContain('Your request is sent.');
  });
});
