// The console's pages through app.request() over a real node: sign-in,
// sessions, CSRF, roles, and each page rendering the API's data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, licenseKey, openAdminFixture, type AdminFixture } from '../admin-app.test-support.ts';

let f: AdminFixture;
let viewerToken = '';
beforeAll(async () => {
  f = await openAdminFixture();
  expect((await f.call('POST', '/licenses', { key: licenseKey({ seats: 3, orderNumber: 'PO-4711', expiresAt: Date.now() + 10 * 86_400_000 }) })).status).toBe(201);
  viewerToken = (await f.call('POST', '/tokens', { role: 'viewer', name: 'wall' })).body.token;
});
afterAll(() => f.close());

/** Signs in with `token`; answers the session cookie. */
async function signIn(token: string): Promise<string> {
  const res = await f.app.request('/login', { method: 'POST', body: new URLSearchParams({ token, next: '/pools' }) });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/pools');
  const cookie = res.headers.get('set-cookie') ?? '';
  expect(cookie).toMatch(/^floe_console=[\w-]{43}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
  return cookie.split(';')[0]!;
}

async function page(cookie: string, path: string): Promise<{ status: number; html: string; location: string | null }> {
  const res = await f.app.request(path, { headers: { cookie } });
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
}

const csrfOf = (html: string) => /<meta name="csrf-token" content="([\w-]+)"/.exec(html)?.[1] ?? '';

describe('the console', () => {
  it('sends a stranger to sign in, and refuses a token that is not an admin token', async () => {
    const res = await f.app.request('/leases?user=bob');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fleases%3Fuser%3Dbob');
    const refused = await f.app.request('/login', { method: 'POST', body: new URLSearchParams({ token: 'nope' }) });
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain('This token is not an admin token of this cluster.');
  });

  it('renders every page for a signed-in admin, with the API’s data', async () => {
    const cookie = await signIn(ADMIN_TOKEN);
    await f.checkout('cad', 'erin');
    const overview = await page(cookie, '/');
    expect(overview.status).toBe(200);
    expect(overview.html).toContain('LIC-A');
    expect(overview.html).toMatch(/License LIC-A \(cad 2\) ends in \d days\./);
    expect(overview.html).toContain('class="exp-14"');
    expect((await page(cookie, '/pools')).html).toMatch(/data-field="seatsInUse">1</);
    const leases = await page(cookie, '/leases');
    expect(leases.html).toContain('erin');
    expect(leases.html).toContain('>Free</a>');
    // Leases come and go within seconds: their times read to the second, UTC as the rest of the console.
    expect(leases.html).toMatch(/<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<\/td>/);
    expect(leases.html).toContain('Since (UTC)');
    const licenses = await page(cookie, '/licenses');
    expect(licenses.html).toContain('order PO-4711');
    // Where it came from: the authorization code its key names; a bare key names no key center.
    expect(licenses.html).toContain('<div class="mono small">AUTH-A</div><div class="muted small">imported as a key</div>');
    const usage = await page(cookie, '/usage?feature=cad&range=day');
    expect(usage.html).toContain('id="usage-data"');
    expect(usage.html).toContain('data-usage-chart');
    // Every hour of the last day is on the chart (idle ones at 0), the current one with erin's seat.
    const chart = JSON.parse(/<script type="application\/json" id="usage-data">(.*?)<\/script>/s.exec(usage.html)?.[1] ?? '{}') as { x: number[]; peak: number[]; xRange: number[] };
    expect(chart.x.length).toBeGreaterThanOrEqual(24);
    expect(chart.x.length).toBeLessThanOrEqual(25);
    expect(chart.peak.at(-1)).toBe(1);
    expect(chart.xRange[1]! - chart.xRange[0]!).toBe(86_400);
    expect((await page(cookie, '/reports')).html).toContain('Download CSV');
    expect((await page(cookie, '/audit')).html).toContain('token-create');
    expect((await page(cookie, '/api-reference')).html).toContain('data-api-reference');
    const asset = await f.app.request('/assets/uplot.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
  });

  it('serves an icon at /favicon.ico, signed in or not (browsers ask for it on every page)', async () => {
    const res = await f.app.request('/favicon.ico');
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/x-icon']);
    // An ICO file (reserved 0, type 1, one image) holding a PNG.
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 6)]).toEqual([0, 0, 1, 0, 1, 0]);
    expect(Buffer.from(bytes.subarray(23, 26)).toString('latin1')).toBe('PNG');
  });

  it('frees a seat after its confirmation, with the reason, and only with the form’s CSRF token', async () => {
    const cookie = await signIn(ADMIN_TOKEN);
    const leaseId = await f.checkout('cad', 'fred');
    const confirm = await page(cookie, `/leases/${leaseId}/free`);
    expect(confirm.html).toContain('Reason (the holder is told)');
    const csrf = csrfOf(confirm.html);
    const forged = await f.app.request(`/leases/${leaseId}/free`, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ reason: 'x' }) });
    expect(forged.status).toBe(403);
    expect(f.node.leases().map((l) => l.leaseId)).toContain(leaseId);
    const done = await f.app.request(`/leases/${leaseId}/free`, { method: 'POST', headers: { cookie }, body: new URLSearchParams({ reason: 'left early', _csrf: csrf }) });
    expect(done.status).toBe(303);
    expect(f.node.leases().map((l) => l.leaseId)).not.toContain(leaseId);
    const audit = await f.call('GET', '/audit?limit=1');
    expect(audit.body.entries[0]).toMatchObject({ actor: 'config-1', action: 'force-checkin', target: leaseId, detail: 'left early' });
  });

  it('shows a viewer no free or remove buttons, and the API refuses the viewer’s session a change', async () => {
    const cookie = await signIn(viewerToken);
    const leases = await page(cookie, '/leases');
    expect(leases.status).toBe(200);
    expect(leases.html).not.toContain('>Free</a>');
    expect((await page(cookie, '/licenses')).html).not.toContain('Import a license key');
    const [lease] = f.node.leases();
    const refused = await f.app.request(`/api/v1/leases/${lease!.leaseId}`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrfOf(leases.html) } });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
  });

  it('shows a form it cannot read as 400 FORM_INVALID, signed in or not, and changes nothing', async () => {
    const broken = { 'content-type': 'multipart/form-data; boundary=x' };
    const login = await f.app.request('/login', { method: 'POST', headers: broken });
    expect(login.status).toBe(400);
    expect(await login.text()).toContain('<h1>FORM_INVALID</h1>');
    const cookie = await signIn(ADMIN_TOKEN);
    const licenses = f.node.licenses().length;
    for (const path of ['/logout', '/licenses', '/leases/free-user']) {
      const res = await f.app.request(path, { method: 'POST', headers: { ...broken, cookie }, body: '--x\r\nnot a part' });
      expect(res.status, path).toBe(400);
      expect(await res.text()).toContain('<h1>FORM_INVALID</h1>');
    }
    expect(f.node.licenses()).toHaveLength(licenses);
    expect((await page(cookie, '/')).status).toBe(200);
  });

  it('ends a session when its token is revoked, and on sign-out', async () => {
    const cookie = await signIn(viewerToken);
    expect((await page(cookie, '/pools')).status).toBe(200);
    expect((await f.call('DELETE', '/tokens/wall')).status).toBe(200);
    expect((await page(cookie, '/pools')).status).toBe(303);
    const admin = await signIn(ADMIN_TOKEN);
    const csrf = csrfOf((await page(admin, '/')).html);
    expect((await f.app.request('/logout', { method: 'POST', headers: { cookie: admin }, body: new URLSearchParams({ _csrf: csrf }) })).status).toBe(303);
    expect((await page(admin, '/')).status).toBe(303);
  });
});
