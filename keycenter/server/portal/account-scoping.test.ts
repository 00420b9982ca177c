import { describe, expect, it } from 'vitest';
import { lock } from '../../key-center.test-support.ts';
import { requestToJoin } from '../../members.ts';
import { PASSWORD, testServer } from '../server.test-support.ts';
import { PortalBrowser, textOf } from './portal.test-support.ts';

describe('account scoping', () => {
  it("a member of account A gets 404 — not 403 — for every page and form of account B, and B's data appears nowhere", async () => {
    const s = await testServer();
    await s.account('S-A', 'ada@a.example');
    const b = await s.account('S-B', 'bob@b.example');
    const bKey = await s.kc.activate({ authCode: b.code.authCode, lockCodes: [lock(7)], hostDescription: 'B secret host' }, { actor: 'api' });
    await requestToJoin(s.kc.ctx, { siteNumber: 'S-B', orderNumber: 'CO-S-B', email: 'eve@example.com', name: 'Eve' });
    const bRequest = (await s.kc.ctx.store.read((q) => q.joinRequestsOf('S-B', 'pending')))[0]!;
    const bUser = (await s.kc.ctx.store.read((q) => q.userByEmail('bob@b.example')))!;
    const bLine = b.order.lines[0]!.lineId;

    const ada = new PortalBrowser(s.app);
    expect((await ada.signIn('ada@a.example', PASSWORD)).location).toBe('/codes');
    const notFound = await ada.get('/orders/ORD-00000-0000X');
    expect(notFound.status).toBe(404);

    // Every page that names something of an account, with B's.
    const pages: Record<string, string> = {
      '/orders/:orderId': `/orders/${b.order.orderId}`,
      '/orders/:orderId/keys': `/orders/${b.order.orderId}/keys`,
      '/lines/:lineId/generate': `/lines/${bLine}/generate`,
      '/codes/:authCode/activate': `/codes/${b.code.authCode}/activate`,
      '/keys/:licenseId': `/keys/${bKey.licenseId}`,
      '/keys/:licenseId/download': `/keys/${bKey.licenseId}/download`,
    };
    // (Links mailed to one person and the static assets name no account.)
    const named = s.app.routes.filter((r) => r.method === 'GET' && r.path.includes('/:') && !/^\/(api|assets|set-password|reset-password)\//.test(r.path));
    expect(named.map((r) => r.path).sort(), 'a new page: add it here').toEqual(Object.keys(pages).sort());
    for (const path of Object.values(pages)) {
      const page = await ada.get(path);
      expect(page.status, path).toBe(404);
      expect(textOf(page.html), path).toBe(textOf(notFound.html));
    }
    await ada.get('/codes');
    // Every form that names something of an account, with B's.
    const forms: Record<string, [string, Record<string, string>]> = {
      '/lines/:lineId/generate': [`/lines/${bLine}/generate`, { seats: '1', split: 'one-code', endDate: '' }],
      '/lines/:lineId/codes': [`/lines/${bLine}/codes`, { seats: '1', split: 'one-code', endDate: '' }],
      '/codes/:authCode/activate': [`/codes/${b.code.authCode}/activate`, { servers: '1', hostMode: 'new', lockCode0: lock(1) }],
      '/codes/:authCode/activations': [`/codes/${b.code.authCode}/activations`, { servers: '1', hostMode: 'new', lockCode0: lock(1) }],
      '/members/:userId/remove': [`/members/${bUser.userId}/remove`, {}],
      '/members/requests/:requestId': [`/members/requests/${bRequest.requestId}`, { decision: 'approve' }],
      '/accounts': ['/accounts', { siteNumber: 'S-B' }],
    };
    const namedForms = s.app.routes.filter((r) => r.method === 'POST' && r.path.includes('/:') && !/^\/(api|set-password|reset-password)\//.test(r.path));
    expect([...namedForms.map((r) => r.path), '/accounts'].sort(), 'a new form: add it here').toEqual(Object.keys(forms).sort());
    for (const [path, fields] of Object.values(forms)) {
      const page = await ada.post(path, fields);
      expect(page.status, path).toBe(404);
    }
    // A's own code cannot be added to B's host: the wizard answers as for a license that does not exist.
    const aCode = (await s.kc.listEntitlements({ siteNumber: 'S-A' }))[0]!.authCode;
    const addTo = async (licenseId: string) => {
      await ada.get(`/codes/${aCode}/activate`);
      return ada.post(`/codes/${aCode}/activations`, { servers: '1', hostMode: 'existing', licenseId });
    };
    const intoB = await addTo(bKey.licenseId);
    const intoNothing = await addTo('LIC-00000-00000-0000X');
    expect(intoB.status).toBe(400);
    expect(textOf(intoB.html)).toBe(textOf(intoNothing.html));
    expect(await s.kc.listKeys({ siteNumber: 'S-A' })).toEqual([]);

    // Nothing of B changed.
    expect((await s.kc.key(bKey.licenseId)).status).toBe('active');
    expect(await s.kc.listKeys({ siteNumber: 'S-B' })).toHaveLength(1);
    expect((await s.kc.listEntitlements({ siteNumber: 'S-B' })).map((e) => e.authCode)).toEqual([b.code.authCode]);
    expect((await s.kc.ctx.store.read((q) => q.membersOf('S-B'))).map((m) => m.email)).toEqual(['bob@b.example']);
    expect((await s.kc.ctx.store.read((q) => q.joinRequest(bRequest.requestId)))?.status).toBe('pending');

    // And none of A's pages shows anything of B.
    const everything = (await Promise.all(['/codes', '/hosts', '/orders', '/members', '/profile', '/accounts'].map(async (p) => (await ada.get(p)).html))).join('\n');
    for (const secret of [b.order.orderId, 'CO-S-B', b.code.authCode, bKey.licenseId, 'B secret host', 'bob@b.example', 'S-B', 'eve@example.com']) {
      expect(everything).not.toContain(secret);
    }
  });
});
