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

    for (const path of [
      `/orders/${b.order.orderId}`,
      `/orders/${b.order.orderId}/keys`,
      `/lines/${bLine}/generate`,
      `/codes/${b.code.authCode}/activate`,
      `/keys/${bKey.licenseId}`,
      `/keys/${bKey.licenseId}/download`,
    ]) {
      const page = await ada.get(path);
      expect(page.status, path).toBe(404);
      expect(textOf(page.html), path).toBe(textOf(notFound.html));
    }
    await ada.get('/codes');
    const forms: [string, Record<string, string>][] = [
      [`/lines/${bLine}/generate`, { seats: '1', split: 'one-code', endDate: '' }],
      [`/lines/${bLine}/codes`, { seats: '1', split: 'one-code', endDate: '' }],
      [`/codes/${b.code.authCode}/activate`, { servers: '1', hostMode: 'new', lockCode0: lock(1) }],
      [`/codes/${b.code.authCode}/activations`, { servers: '1', hostMode: 'new', lockCode0: lock(1) }],
      [`/members/${bUser.userId}/remove`, {}],
      [`/members/requests/${bRequest.requestId}`, { decision: 'approve' }],
      ['/accounts', { siteNumber: 'S-B' }],
    ];
    for (const [path, fields] of forms) {
      const page = await ada.post(path, fields);
      expect(page.status, path).toBe(404);
    }
    // Nothing of B changed.
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
