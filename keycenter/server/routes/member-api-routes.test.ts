import { describe, expect, it } from 'vitest';
import { addMember, removeMember } from '../../members.ts';
import { lock, mailedToken } from '../../key-center.test-support.ts';
import { setPasswordWithToken, signIn } from '../../member-auth.ts';
import { SESSION_COOKIE } from '../session-cookie.ts';
import { errorCodeOf, PASSWORD, testServer } from '../server.test-support.ts';

describe('member API', () => {
  it('answers the chosen account\'s orders, codes, hosts and keys to its signed-in member', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    const key = await s.kc.activate({ authCode: a.code.authCode, lockCodes: [lock(1)], hostDescription: 'lab server' }, { actor: 'api' });
    const get = async (path: string) => {
      const res = await s.request(`/api/v1${path}`, { headers: { cookie: a.cookie } });
      expect(res.status, path).toBe(200);
      return res.json() as Promise<unknown>;
    };
    expect(await get('/me')).toEqual({ email: 'ada@example.com', name: 'Admin of S-1', account: { siteNumber: 'S-1', companyName: 'Company S-1' }, accounts: [{ siteNumber: 'S-1', companyName: 'Company S-1', role: 'admin' }] });
    expect(await get('/orders')).toMatchObject([{ orderId: a.order.orderId, customerOrderNumber: 'CO-S-1', purchaseOrderNumber: 'PO-S-1' }]);
    expect(await get(`/orders/${a.order.orderId}`)).toMatchObject({ lines: [{ lineNo: 1 }, { lineNo: 2 }] });
    expect(await get(`/orders/${a.order.orderId}/keys`)).toMatchObject([{ licenseId: key.licenseId }]);
    expect(await get('/codes')).toMatchObject([
      { seatsEntitled: 10, seatsIssued: 4, seatsRemaining: 6, codes: [{ authCode: a.code.authCode, seatsActivated: 4 }] },
      { seatsEntitled: 5, seatsIssued: 0, seatsRemaining: 5, codes: [] },
    ]);
    expect(await get(`/codes/${a.code.authCode}`)).toMatchObject({ authCode: a.code.authCode, seats: 4 });
    expect(await get('/hosts')).toMatchObject([{ hostDescription: 'lab server', lockCodes: [lock(1)], keys: [{ licenseId: key.licenseId, status: 'active' }] }]);
    expect(await get(`/keys/${key.licenseId}`)).toMatchObject({ licenseId: key.licenseId, keyText: key.keyText });
  });

  it('answers 401 without a session, and ACCOUNT_NOT_CHOSEN to a member of several accounts who has not picked one', async () => {
    const s = await testServer();
    await s.account('S-1', 'ada@example.com');
    await s.account('S-2', 'bob@example.com');
    for (const path of ['/me', '/orders', '/codes', '/hosts']) {
      const res = await s.request(`/api/v1${path}`);
      expect([res.status, await errorCodeOf(res)]).toEqual([401, 'UNAUTHORIZED']);
    }
    const forged = await s.request('/api/v1/orders', { headers: { cookie: `${SESSION_COOKIE}=forged` } });
    expect(forged.status).toBe(401);
    await addMember(s.kc.ctx, { siteNumber: 'S-2', actor: 'cli' }, { email: 'ada@example.com', name: 'Ada' });
    const { sessionId } = await signIn(s.kc.ctx, { email: 'ada@example.com', password: PASSWORD, address: 'x' });
    const res = await s.request('/api/v1/orders', { headers: { cookie: `${SESSION_COOKIE}=${sessionId}` } });
    expect([res.status, await errorCodeOf(res)]).toEqual([409, 'ACCOUNT_NOT_CHOSEN']);
  });

  it('a member of account A gets 404 — as for an id that does not exist — for every order, code and key of account B', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    const b = await s.account('S-2', 'bob@example.com');
    const bKey = await s.kc.activate({ authCode: b.code.authCode, lockCodes: [lock(2)] }, { actor: 'api' });
    const asA = (path: string) => s.request(`/api/v1${path}`, { headers: { cookie: a.cookie } });
    // Every read of a member that names something.
    const named = [...new Set(s.app.routes.filter((r) => r.method === 'GET' && /^\/api\/v1\/(?!vendor\/).*\/:/.test(r.path)).map((r) => r.path.slice('/api/v1'.length)))];
    expect(named.sort(), 'a new member route: add it here').toEqual(['/codes/:authCode', '/keys/:licenseId', '/orders/:orderId', '/orders/:orderId/keys']);
    for (const [theirs, nonexistent] of [
      [`/orders/${b.order.orderId}`, '/orders/ORD-00000-0000X'],
      [`/orders/${b.order.orderId}/keys`, '/orders/ORD-00000-0000X/keys'],
      [`/codes/${b.code.authCode}`, '/codes/00000-00000-00000-00000'],
      [`/keys/${bKey.licenseId}`, '/keys/LIC-00000-00000-0000X'],
    ] as const) {
      const res = await asA(theirs);
      const none = await asA(nonexistent);
      expect([res.status, await errorCodeOf(res)], theirs).toEqual([404, 'NOT_FOUND']);
      expect([none.status, await errorCodeOf(none)], nonexistent).toEqual([404, 'NOT_FOUND']);
    }
    const lists = [await (await asA('/orders')).text(), await (await asA('/codes')).text(), await (await asA('/hosts')).text()].join('\n');
    // The site number as a JSON value: the bare "S-2" also turns up inside random ids ("LN-G0JZS-25SNA").
    for (const secret of [b.order.orderId, b.code.authCode, bKey.licenseId, '"S-2"', 'bob@example.com']) expect(lists).not.toContain(secret);
    // Bob's reads answer his own.
    expect((await s.request(`/api/v1/keys/${bKey.licenseId}`, { headers: { cookie: b.cookie } })).status).toBe(200);
  });

  it('a member removed from the chosen account reads nothing of it any more', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    await addMember(s.kc.ctx, { siteNumber: 'S-1', actor: 'cli' }, { email: 'carol@example.com', name: 'Carol' });
    await setPasswordWithToken(s.kc.ctx, { token: await mailedToken(s.kc, 'carol@example.com', '/set-password/'), purpose: 'set-password', password: PASSWORD });
    const { sessionId } = await signIn(s.kc.ctx, { email: 'carol@example.com', password: PASSWORD, address: 'x' });
    const cookie = `${SESSION_COOKIE}=${sessionId}`;
    expect((await s.request(`/api/v1/orders/${a.order.orderId}`, { headers: { cookie } })).status).toBe(200);
    const carol = await s.kc.ctx.store.read((q) => q.userByEmail('carol@example.com'));
    const ada = await s.kc.ctx.store.read((q) => q.userByEmail('ada@example.com'));
    await removeMember(s.kc.ctx, { siteNumber: 'S-1', userId: ada!.userId, email: 'ada@example.com' }, carol!.userId);
    const res = await s.request(`/api/v1/orders/${a.order.orderId}`, { headers: { cookie } });
    expect([res.status, await errorCodeOf(res)]).toEqual([409, 'ACCOUNT_NOT_CHOSEN']);
  });
});
