import { describe, expect, it } from 'vitest';
import { verifyLicenseKey } from '../../../protocol/index.ts';
import { lock, queuedMail, T0 } from '../../key-center.test-support.ts';
import { PASSWORD, testServer } from '../server.test-support.ts';
import { PortalBrowser, textOf } from './portal.test-support.ts';

function typo(code: string): string {
  return code.slice(0, 2) + (code[2] === 'X' ? 'Y' : 'X') + code.slice(3);
}

async function signedIn() {
  const s = await testServer();
  const a = await s.account('S-1', 'ada@example.com');
  const browser = new PortalBrowser(s.app);
  await browser.signIn('ada@example.com', PASSWORD);
  return { s, a, browser };
}

describe('My authorization codes', () => {
  it('lists each product line with seats entitled, issued and remaining, and generates codes through a confirm page with a comment', async () => {
    const { s, a, browser } = await signedIn();
    const codes = await browser.get('/codes');
    expect(textOf(codes.html)).toContain('stats 29 Concurrent');
    expect(textOf(codes.html)).toContain('Seats entitled 10 Issued in codes 4 Remaining 6');
    expect(textOf(codes.html)).toContain('Users entitled 5 Issued in codes 0 Remaining 5');
    const userLine = a.order.lines[1]!.lineId;
    const form = await browser.get(`/lines/${userLine}/generate`);
    expect(textOf(form.html)).toContain('One code per user');
    const tooMany = await browser.post(`/lines/${userLine}/generate`, { seats: '6', split: 'per-user', endDate: '' });
    expect([tooMany.status, textOf(tooMany.html)]).toEqual([400, expect.stringContaining('give a whole number from 1 to 5')]);
    const confirm = await browser.post(`/lines/${userLine}/generate`, { seats: '3', split: 'per-user', endDate: '2026-06-30' });
    expect(textOf(confirm.html)).toContain('Confirm the configuration');
    expect(textOf(confirm.html)).toContain('Codes 3 codes, one per user');
    expect(textOf(confirm.html)).toContain('Temporary, until 30 Jun 2026');
    const created = await browser.post(`/lines/${userLine}/codes`, { seats: '3', split: 'per-user', endDate: '2026-06-30', comment: 'summer interns' });
    expect(created.status).toBe(201);
    const shown = [...created.html.matchAll(/class="big-code" id="code-\d">([0-9A-Z-]+)</g)].map((m) => m[1]);
    expect(shown).toHaveLength(3);
    const stored = await s.kc.listEntitlements({ lineId: userLine });
    expect(stored.map((e) => [e.authCode, e.seats, e.comment, e.expiresAt])).toEqual(shown.map((code) => [code, 1, 'summer interns', Date.UTC(2026, 6, 1)]));
    expect(textOf((await browser.get('/codes')).html)).toContain('Users entitled 5 Issued in codes 3 Remaining 2');
  });
});

describe('the activation wizard', () => {
  it('activates a code on three lock codes with a host description, shows, mails and serves the key as a file', async () => {
    const { s, a, browser } = await signedIn();
    const step1 = await browser.get(`/codes/${a.code.authCode}/activate`);
    expect(step1.html).toContain('data-add-lock-codes');
    expect(step1.html).toMatch(/<div data-extra-lock-code="true" hidden="">/);
    const fields = { servers: '3', hostMode: 'new', lockCode0: lock(1), lockCode1: lock(2).toLowerCase(), lockCode2: lock(3), hostDescription: 'License servers, Minneapolis' };
    const confirm = await browser.post(`/codes/${a.code.authCode}/activate`, fields);
    expect(confirm.status).toBe(200);
    expect(textOf(confirm.html)).toContain(`Lock codes (redundant) ${lock(1)} ${lock(2)} ${lock(3)}`);
    const done = await browser.post(`/codes/${a.code.authCode}/activations`, { ...fields, comment: 'production cluster' });
    expect(done.location).toMatch(/^\/keys\/LIC-[0-9A-Z-]+\?issued=1$/);
    const licenseId = done.location!.split('/')[2]!.split('?')[0]!;
    const page = await browser.follow(done);
    expect(textOf(page.html)).toContain('Your license key is ready. We also e-mailed it to ada@example.com.');
    const key = (await s.kc.listKeys())[0]!;
    expect(page.html).toContain(key.keyText);
    const verdict = verifyLicenseKey(key.keyText, { vendorKeys: [s.vendorKey], nowMs: T0, lockCode: lock(3) });
    expect(verdict.ok && verdict.license).toMatchObject({ licenseId, seats: 4, hostDescription: 'License servers, Minneapolis', comment: 'production cluster', orderNumber: 'CO-S-1' });
    const download = await s.app.request(`/keys/${licenseId}/download`, { headers: { cookie: `floe_kc_session=${browser.cookie('floe_kc_session')}` } });
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${licenseId}.license"`);
    expect(await download.text()).toBe(`${key.keyText}\n`);
    expect((await queuedMail(s.kc)).at(-1)).toMatchObject({ to: 'ada@example.com', attachments: [{ filename: `${licenseId}.license` }] });
    const hosts = textOf((await browser.get('/hosts')).html);
    expect(hosts).toContain('License servers, Minneapolis Redundant: 3 servers · 1 active key');
    expect(hosts).toContain(`${licenseId} stats 29 Concurrent · Perpetual 4 ${a.code.authCode}`);
  });

  it('shows LOCK_CODE_TYPO on the field that has the typo, keeps what was typed, and issues nothing', async () => {
    const { s, a, browser } = await signedIn();
    await browser.get(`/codes/${a.code.authCode}/activate`);
    const bad = await browser.post(`/codes/${a.code.authCode}/activate`, { servers: '3', hostMode: 'new', lockCode0: lock(1), lockCode1: typo(lock(2)), lockCode2: lock(3) });
    expect(bad.status).toBe(400);
    expect(bad.html).toMatch(/id="f-lockCode1"[^>]*aria-invalid="true"/);
    expect(bad.html).toMatch(/<div class="error" id="f-lockCode1-error" role="alert">LOCK_CODE_TYPO: the lock code/);
    expect(bad.html).toContain(`value="${lock(1)}"`);
    const missing = await browser.post(`/codes/${a.code.authCode}/activate`, { servers: '3', hostMode: 'new', lockCode0: lock(1), lockCode1: '', lockCode2: lock(3) });
    expect(missing.html).toMatch(/id="f-lockCode1-error" role="alert">enter the lock code/);
    const dup = await browser.post(`/codes/${a.code.authCode}/activate`, { servers: '3', hostMode: 'new', lockCode0: lock(1), lockCode1: lock(2), lockCode2: lock(1) });
    expect(dup.html).toMatch(/id="f-lockCode2-error" role="alert">DUPLICATE_LOCK_CODE/);
    // Straight to the last step with a typo: refused the same way.
    const skip = await browser.post(`/codes/${a.code.authCode}/activations`, { servers: '1', hostMode: 'new', lockCode0: typo(lock(1)) });
    expect(skip.html).toMatch(/id="f-lockCode0-error" role="alert">LOCK_CODE_TYPO/);
    expect(await s.kc.listKeys()).toEqual([]);
  });

  it("adds a code's seats to an existing host: the new key has the summed seats and supersedes the host's key", async () => {
    const { s, a, browser } = await signedIn();
    await browser.get(`/codes/${a.code.authCode}/activate`);
    await browser.post(`/codes/${a.code.authCode}/activations`, { servers: '1', hostMode: 'new', lockCode0: lock(1), hostDescription: 'lab' });
    const first = (await s.kc.listKeys())[0]!;
    const generated = await browser.post(`/lines/${a.order.lines[0]!.lineId}/codes`, { seats: '6', split: 'one-code', endDate: '' });
    const second = /class="big-code" id="code-0">([0-9A-Z-]+)</.exec(generated.html)![1]!;
    const step1 = await browser.get(`/codes/${second}/activate`);
    expect(textOf(step1.html)).toContain(`lab — 1 server, ${lock(1)} — 4 seats in ${first.licenseId}`);
    const confirm = await browser.post(`/codes/${second}/activate`, { hostMode: 'existing', licenseId: first.licenseId, servers: '1' });
    expect(textOf(confirm.html)).toContain('Seats 4 now + 6 from this code = 10 in the new key');
    const done = await browser.post(`/codes/${second}/activations`, { hostMode: 'existing', licenseId: first.licenseId, servers: '1' });
    const page = await browser.follow(done);
    expect(textOf(page.html)).toContain(`This key replaces ${first.licenseId}`);
    const keys = await s.kc.listKeys();
    expect(keys.map((k) => [k.seats, k.status, k.supersedes])).toEqual([
      [4, 'superseded', null],
      [10, 'active', first.licenseId],
    ]);
    const hosts = textOf((await browser.get('/hosts')).html);
    expect(hosts).toContain('lab Single server · 1 active key');
    expect(hosts).toMatch(new RegExp(`${first.licenseId} .* Superseded by ${keys[1]!.licenseId}`));
  });

  it('a code with nothing left to issue says so instead of offering the wizard', async () => {
    const { s, a, browser } = await signedIn();
    await s.kc.activate({ authCode: a.code.authCode, lockCodes: [lock(1)] }, { actor: 'api' });
    const page = await browser.get(`/codes/${a.code.authCode}/activate`);
    expect([page.status, textOf(page.html)]).toEqual([409, expect.stringContaining('Every seat of code')]);
  });
});
