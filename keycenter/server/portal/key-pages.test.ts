import { describe, expect, it } from 'vitest';
import { addOrder } from '../../accounts.ts';
import { generateCodes } from '../../code-generation.ts';
import { DAY_MS, lock, T0 } from '../../key-center.test-support.ts';
import { PASSWORD, testServer, type TestServer } from '../server.test-support.ts';
import { PortalBrowser, textOf } from './portal.test-support.ts';

/** Account S-1 with a second order (a bundle and a renewal), a key rehosted, and a temporary key ending at T0 + 2 days. */
async function keysOfAllKinds(s: TestServer) {
  const a = await s.account('S-1', 'ada@example.com');
  const ada = (await s.kc.ctx.store.read((q) => q.userByEmail('ada@example.com')))!;
  const scope = { siteNumber: 'S-1', userId: ada.userId, email: ada.email };
  const renewal = await addOrder(
    s.kc.ctx,
    'S-1',
    {
      customerOrderNumber: 'CO-RENEW',
      purchaseOrderNumber: 'PO-RENEW',
      contacts: [{ email: 'ada@example.com', name: 'Ada', role: 'primary' }],
      lines: [
        { product: 'suite', version: '30', model: 'authorized-user', quantity: 3, components: ['base', 'amos'] },
        { product: 'stats', version: '30', model: 'concurrent', quantity: 10, renewsLineId: a.order.lines[0]!.lineId },
      ],
    },
    'vendor:ann',
  );
  const lab = await s.kc.activate({ authCode: a.code.authCode, lockCodes: [lock(1)], hostDescription: 'Old lab server' }, { actor: 'cli' });
  const moved = await s.kc.rehost({ licenseId: lab.licenseId, lockCodes: [lock(2)], hostDescription: 'New lab server' }, { actor: 'vendor:ann' });
  const [temporary] = await generateCodes(s.kc.ctx, scope, { lineId: a.order.lines[0]!.lineId, seats: 2, expiresAt: T0 + 2 * DAY_MS });
  const summer = await s.kc.activate({ authCode: temporary!.authCode, lockCodes: [lock(3), lock(4), lock(5)], hostDescription: 'Summer cluster' }, { actor: 'cli' });
  return { a, renewal, lab, moved, summer };
}

describe('orders and keys in the portal', () => {
  it('order history → order details (bundle, renewal) → license keys for this order, each with its host and status', async () => {
    const s = await testServer();
    const { a, renewal, lab, moved, summer } = await keysOfAllKinds(s);
    const browser = new PortalBrowser(s.app);
    await browser.signIn('ada@example.com', PASSWORD);

    const history = textOf((await browser.get('/orders')).html);
    expect(history).toContain('Customer order number Purchase-order number Date Products');
    expect(history).toContain('CO-RENEW PO-RENEW 15 Jan 2026 suite 30, stats 30');
    expect(history).toContain('CO-S-1 PO-S-1 15 Jan 2026 stats 29, stats 29');

    const details = await browser.get(`/orders/${renewal.orderId}`);
    expect(details.status).toBe(200);
    const text = textOf(details.html);
    expect(text).toContain('Order CO-RENEW');
    expect(text).toContain('Purchase order PO-RENEW');
    expect(text).toContain('1 suite 30 Bundle: base, amos Authorized user 3 Perpetual');
    expect(text).toContain('2 stats 30 Maintenance renewal Concurrent 10 Perpetual');
    expect(details.html).toContain(`href="/orders/${renewal.orderId}/keys"`);
    expect(textOf((await browser.get(`/orders/${renewal.orderId}/keys`)).html)).toContain('No keys issued for this order yet.');

    const keys = textOf((await browser.get(`/orders/${a.order.orderId}/keys`)).html);
    expect(keys).toContain('License keys for order CO-S-1');
    expect(keys).toContain(`${lab.licenseId} stats 29 Concurrent · Perpetual 4 Old lab server 15 Jan 2026 Superseded by ${moved.licenseId}`);
    expect(keys).toContain(`${moved.licenseId} replaces ${lab.licenseId} stats 29 Concurrent · Perpetual 4 New lab server 15 Jan 2026 Active`);
    expect(keys).toContain(`${summer.licenseId} stats 29 Concurrent · Until 16 Jan 2026 2 Summer cluster 15 Jan 2026 Active`);
  });

  it('View codes by host lists every host — lock codes, description — with its keys: active, superseded by the newer key, expired', async () => {
    const s = await testServer();
    const { lab, moved, summer } = await keysOfAllKinds(s);
    s.clock.nowMs = T0 + 3 * DAY_MS;
    const browser = new PortalBrowser(s.app);
    await browser.signIn('ada@example.com', PASSWORD);
    const page = await browser.get('/hosts');
    const hosts = [...page.html.matchAll(/<section class="card" aria-label="Host ([^"]+)">([\s\S]*?)<\/section>/g)].map((m) => [m[1], textOf(m[2]!)] as const);
    expect(hosts.map(([name]) => name)).toEqual(['New lab server', 'Old lab server', 'Summer cluster']);
    const [newLab, oldLab, cluster] = hosts.map(([, text]) => text);
    expect(newLab).toContain(`Single server · 1 active key ${lock(2)}`);
    expect(newLab).toMatch(new RegExp(`${moved.licenseId} replaces ${lab.licenseId} .* Active`));
    expect(oldLab).toContain(`Single server · 0 active keys ${lock(1)}`);
    expect(oldLab).toContain(`Superseded by ${moved.licenseId}`);
    expect(cluster).toContain(`Redundant: 3 servers · 0 active keys ${[lock(3), lock(4), lock(5)].sort().join(' ')}`);
    expect(cluster).toMatch(new RegExp(`${summer.licenseId} .* Expired`));

    const download = await s.app.request(`/keys/${moved.licenseId}/download`, { headers: { cookie: `floe_kc_session=${browser.cookie('floe_kc_session')}` } });
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="${moved.licenseId}.license"`);
    expect(await download.text()).toBe(`${moved.keyText}\n`);
  });
});

describe('borrowing in the portal', () => {
  it('a borrowable line shows a Borrowable badge and its period on My authorization codes, the order, the activation wizard and the key', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    const ada = (await s.kc.ctx.store.read((q) => q.userByEmail('ada@example.com')))!;
    const order = await addOrder(
      s.kc.ctx,
      'S-1',
      {
        customerOrderNumber: 'CO-ROAM',
        contacts: [{ email: 'ada@example.com', name: 'Ada', role: 'primary' }],
        lines: [{ product: 'cad', version: '7', model: 'concurrent', quantity: 4, borrowAllowed: true, borrowHoursMax: 72 }],
      },
      'vendor:ann',
    );
    const [code] = await generateCodes(s.kc.ctx, { siteNumber: 'S-1', userId: ada.userId, email: ada.email }, { lineId: order.lines[0]!.lineId, seats: 4 });
    const key = await s.kc.activate({ authCode: code!.authCode, lockCodes: [lock(1)] }, { actor: 'cli' });
    const browser = new PortalBrowser(s.app);
    await browser.signIn('ada@example.com', PASSWORD);

    const codes = textOf((await browser.get('/codes')).html);
    expect(codes).toContain('cad 7 Concurrent Borrowable');
    expect(codes).toContain('borrowable up to 72 h (3 days)');
    expect(codes).toMatch(/stats 29 Concurrent (?!Borrowable)/);
    expect(textOf((await browser.get(`/orders/${order.orderId}`)).html)).toContain('Term Borrowing 1 cad 7 Concurrent 4 Perpetual Borrowable up to 72 h (3 days)');
    expect(textOf((await browser.get(`/keys/${key.licenseId}`)).html)).toContain('Borrowing Borrowable up to 72 h (3 days)');
    expect(textOf((await browser.get(`/codes/${a.code.authCode}/activate`)).html)).toContain('Borrowing Not borrowable');
  });
});
