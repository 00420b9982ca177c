import { describe, expect, it } from 'vitest';
import { verifyLicenseKey } from '../../../protocol/index.ts';
import { generateCodes } from '../../code-generation.ts';
import { lock, queuedMail, T0 } from '../../key-center.test-support.ts';
import { errorCodeOf, testServer, type TestServer } from '../server.test-support.ts';

const anOrder = {
  customerOrderNumber: 'CO-1',
  purchaseOrderNumber: 'PO-1',
  contacts: [{ email: 'ada@example.com', name: 'Ada' }],
  lines: [
    { product: 'stats', version: '29', model: 'concurrent', quantity: 10 },
    { product: 'suite', version: '29', model: 'authorized-user', quantity: 5, components: ['base', 'amos'], expires: '2099-12-31' },
  ],
};

function staff(s: TestServer, init: RequestInit & { json?: unknown } = {}): RequestInit & { json?: unknown } {
  return { ...init, headers: { authorization: `Bearer ${s.staffToken}` } };
}

describe('vendor routes', () => {
  it('need a staff token: none, a wrong one and a member session all answer 401', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    for (const headers of [{}, { authorization: 'Bearer kcs_wrong' }, { authorization: s.staffToken }, { cookie: a.cookie }]) {
      const res = await s.request('/api/v1/vendor/accounts', { headers });
      expect([res.status, await errorCodeOf(res)]).toEqual([401, 'UNAUTHORIZED']);
    }
    const create = await s.request('/api/v1/vendor/accounts', { method: 'POST', json: { siteNumber: 'S-9', companyName: 'x' } });
    expect(create.status).toBe(401);
    expect(await s.kc.ctx.store.read((q) => q.account('S-9'))).toBeUndefined();
  });

  it('create an account and an order; the contacts are mailed; both are audited under the staff name', async () => {
    const s = await testServer();
    const created = await s.request('/api/v1/vendor/accounts', staff(s, { method: 'POST', json: { siteNumber: 'S-100', companyName: 'Acme Analytics' } }));
    expect([created.status, await created.json()]).toEqual([201, { siteNumber: 'S-100', companyName: 'Acme Analytics', createdAt: T0 }]);
    const dup = await s.request('/api/v1/vendor/accounts', staff(s, { method: 'POST', json: { siteNumber: 'S-100', companyName: 'Other' } }));
    expect([dup.status, await errorCodeOf(dup)]).toEqual([409, 'ACCOUNT_EXISTS']);
    const bad = await s.request('/api/v1/vendor/accounts', staff(s, { method: 'POST', json: { siteNumber: 'S 1', companyName: 'x' } }));
    expect([bad.status, await errorCodeOf(bad)]).toEqual([400, 'BAD_REQUEST']);

    const res = await s.request('/api/v1/vendor/accounts/S-100/orders', staff(s, { method: 'POST', json: anOrder }));
    expect(res.status).toBe(201);
    const order = (await res.json()) as { orderId: string; lines: { lineNo: number; components: string[]; expiresAt: number | null }[] };
    expect(order.lines.map((l) => [l.lineNo, l.components, l.expiresAt])).toEqual([
      [1, [], null],
      [2, ['base', 'amos'], Date.UTC(2100, 0, 1)],
    ]);
    expect((await queuedMail(s.kc)).map((m) => [m.to, m.subject.split(' ')[0]])).toEqual([
      ['ada@example.com', 'Welcome'],
      ['ada@example.com', 'Authorization'],
    ]);
    const again = await s.request('/api/v1/vendor/accounts/S-100/orders', staff(s, { method: 'POST', json: anOrder }));
    expect([again.status, await errorCodeOf(again)]).toEqual([409, 'ORDER_EXISTS']);
    const noAccount = await s.request('/api/v1/vendor/accounts/S-404/orders', staff(s, { method: 'POST', json: { ...anOrder, customerOrderNumber: 'CO-2' } }));
    expect([noAccount.status, await errorCodeOf(noAccount)]).toEqual([404, 'NOT_FOUND']);
    const badLine = await s.request('/api/v1/vendor/accounts/S-100/orders', staff(s, { method: 'POST', json: { ...anOrder, customerOrderNumber: 'CO-3', lines: [{ ...anOrder.lines[0], quantity: 0 }] } }));
    expect([badLine.status, await errorCodeOf(badLine)]).toEqual([400, 'BAD_REQUEST']);

    const account = (await (await s.request('/api/v1/vendor/accounts/S-100', staff(s))).json()) as { members: { email: string; role: string }[]; orders: unknown[] };
    expect(account.members.map((m) => [m.email, m.role])).toEqual([['ada@example.com', 'admin']]);
    expect(account.orders).toHaveLength(1);
    expect((await s.request('/api/v1/vendor/accounts/S-404', staff(s))).status).toBe(404);
    expect(((await (await s.request('/api/v1/vendor/accounts', staff(s))).json()) as unknown[]).length).toBe(1);
    const audit = (await (await s.request('/api/v1/vendor/audit?site=S-100', staff(s))).json()) as { actor: string; action: string }[];
    expect(audit.map((a) => [a.actor, a.action])).toEqual([
      ['vendor:ann', 'add-order'],
      ['vendor:ann', 'create-account'],
    ]);
  });

  it('an order line with borrowAllowed gives keys that allow borrowing, activated and rehosted through the API; borrowHoursMax alone allows it too', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    const lines = [
      { product: 'cad', version: '7', model: 'concurrent', quantity: 4, borrowAllowed: true },
      { product: 'cam', version: '7', model: 'concurrent', quantity: 4, borrowHoursMax: 24 },
      { product: 'viz', version: '7', model: 'concurrent', quantity: 4 },
    ];
    const res = await s.request('/api/v1/vendor/accounts/S-1/orders', staff(s, { method: 'POST', json: { ...anOrder, customerOrderNumber: 'CO-B', lines } }));
    expect(res.status).toBe(201);
    const order = (await res.json()) as { lines: { lineId: string; borrowHoursMax: number | null }[] };
    expect(order.lines.map((l) => l.borrowHoursMax)).toEqual([168, 24, null]);
    const refused = await s.request('/api/v1/vendor/accounts/S-1/orders', staff(s, { method: 'POST', json: { ...anOrder, customerOrderNumber: 'CO-C', lines: [{ ...lines[0], borrowAllowed: false, borrowHoursMax: 24 }] } }));
    expect([refused.status, await errorCodeOf(refused)]).toEqual([400, 'BAD_REQUEST']);

    const member = (await s.kc.ctx.store.read((q) => q.membersOf('S-1')))[0]!;
    const [code] = await generateCodes(s.kc.ctx, { siteNumber: 'S-1', userId: member.userId, email: member.email }, { lineId: order.lines[1]!.lineId, seats: 2 });
    const activated = await s.request('/api/v1/activations', { method: 'POST', headers: { cookie: a.cookie }, json: { authCode: code!.authCode, lockCodes: [lock(1)] } });
    expect(activated.status).toBe(201);
    const { licenseId, key } = (await activated.json()) as { licenseId: string; key: string };
    const verdict = verifyLicenseKey(key, { vendorKeys: [s.vendorKey], nowMs: T0, lockCode: lock(1) });
    expect(verdict.ok && verdict.license).toMatchObject({ borrowAllowed: true, borrowHoursMax: 24 });
    const shown = (await (await s.request(`/api/v1/keys/${licenseId}`, { headers: { cookie: a.cookie } })).json()) as { borrowHoursMax: number | null };
    expect(shown.borrowHoursMax).toBe(24);
    const rehost = await s.request(`/api/v1/vendor/licenses/${licenseId}/rehost`, staff(s, { method: 'POST', json: { lockCodes: [lock(2)] } }));
    const moved = (await rehost.json()) as { keyText: string };
    const movedVerdict = verifyLicenseKey(moved.keyText, { vendorKeys: [s.vendorKey], nowMs: T0, lockCode: lock(2) });
    expect(movedVerdict.ok && movedVerdict.license).toMatchObject({ borrowAllowed: true, borrowHoursMax: 24 });
  });

  it('support actions: add a member, re-send a certificate, raise a code, rehost a key — each audited', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    const member = await s.request('/api/v1/vendor/accounts/S-1/members', staff(s, { method: 'POST', json: { email: 'bob@example.com', name: 'Bob' } }));
    expect([member.status, ((await member.json()) as { role: string }).role]).toEqual([201, 'member']);
    const twice = await s.request('/api/v1/vendor/accounts/S-1/members', staff(s, { method: 'POST', json: { email: 'bob@example.com', name: 'Bob' } }));
    expect([twice.status, await errorCodeOf(twice)]).toEqual([409, 'MEMBER_EXISTS']);

    const cert = await s.request(`/api/v1/vendor/orders/${a.order.orderId}/certificate`, staff(s, { method: 'POST' }));
    expect([cert.status, await cert.json()]).toEqual([202, { orderId: a.order.orderId, to: ['ada@example.com'] }]);
    expect((await s.request('/api/v1/vendor/orders/ORD-NOPE/certificate', staff(s, { method: 'POST' }))).status).toBe(404);

    const key = await s.kc.activate({ authCode: a.code.authCode, lockCodes: [lock(1)] }, { actor: 'api' });
    const raised = await s.request(`/api/v1/vendor/codes/${a.code.authCode}/raise`, staff(s, { method: 'POST', json: {} }));
    expect([raised.status, ((await raised.json()) as { activationsMax: number }).activationsMax]).toEqual([200, 2]);
    expect((await s.request('/api/v1/vendor/codes/NOPE/raise', staff(s, { method: 'POST', json: {} }))).status).toBe(404);

    const rehost = await s.request(`/api/v1/vendor/licenses/${key.licenseId}/rehost`, staff(s, { method: 'POST', json: { lockCodes: [lock(2), lock(3), lock(4)] } }));
    expect(rehost.status).toBe(201);
    const moved = (await rehost.json()) as { licenseId: string; keyText: string; supersedes: string };
    expect(moved.supersedes).toBe(key.licenseId);
    const verdict = verifyLicenseKey(moved.keyText, { vendorKeys: [s.vendorKey], nowMs: T0, lockCode: lock(3) });
    expect(verdict.ok && verdict.license.supersedes).toBe(key.licenseId);
    const again = await s.request(`/api/v1/vendor/licenses/${key.licenseId}/rehost`, staff(s, { method: 'POST', json: { lockCodes: [lock(5)] } }));
    expect([again.status, await errorCodeOf(again)]).toEqual([409, 'ALREADY_SUPERSEDED']);
    const none = await s.request('/api/v1/vendor/licenses/LIC-NOPE/rehost', staff(s, { method: 'POST', json: { lockCodes: [lock(5)] } }));
    expect([none.status, await errorCodeOf(none)]).toEqual([404, 'LICENSE_NOT_FOUND']);

    const keys = (await (await s.request('/api/v1/vendor/keys?site=S-1', staff(s))).json()) as { licenseId: string; status: string }[];
    expect(keys.map((k) => k.status)).toEqual(['superseded', 'active']);
    const audit = (await (await s.request('/api/v1/vendor/audit?site=S-1&limit=4', staff(s))).json()) as { actor: string; action: string }[];
    expect(audit.map((x) => [x.actor, x.action])).toEqual([
      ['vendor:ann', 'rehost'],
      ['vendor:ann', 'raise-activations'],
      ['api', 'activate'],
      ['vendor:ann', 'resend-certificate'],
    ]);
  });

  it('every vendor route answers its refusals with a code and a fitting status, and changes nothing', async () => {
    const s = await testServer();
    const a = await s.account('S-1', 'ada@example.com');
    const [userCode] = await s.kc.entitle({ product: 'stats', version: '29', model: 'authorized-user', seats: 3 });
    const key = await s.kc.activate({ authCode: a.code.authCode, lockCodes: [lock(1)] }, { actor: 'api' });
    const typo = lock(2).replace(/^./, (ch) => (ch === 'X' ? 'Y' : 'X'));
    const state = async () => JSON.stringify(await s.kc.ctx.store.read(async (q) => [await q.accounts(), await q.membersOf('S-1'), await q.entitlements({}), await q.keys({}), await q.mails(1000), await q.audit({ limit: 1000 })]));
    const before = await state();
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/vendor/accounts', {}, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/accounts', { siteNumber: 'S-2', companyName: 'x', extra: 1 }, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/accounts', { siteNumber: 'S-1', companyName: 'Again' }, 409, 'ACCOUNT_EXISTS'],
      ['GET', '/vendor/accounts/S%201', undefined, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/accounts/S-404/orders', anOrder, 404, 'NOT_FOUND'],
      ['POST', '/vendor/accounts/S-1/orders', { ...anOrder, contacts: [] }, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/accounts/S-1/orders', { ...anOrder, customerOrderNumber: 'CO-S-1' }, 409, 'ORDER_EXISTS'],
      ['POST', '/vendor/accounts/S-404/members', { email: 'bob@example.com', name: 'Bob' }, 404, 'NOT_FOUND'],
      ['POST', '/vendor/accounts/S-1/members', { email: 'not an address', name: 'Bob' }, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/accounts/S-1/members', { email: 'bob@example.com', name: 'Bob', role: 'owner' }, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/accounts/S-1/members', { email: 'ada@example.com', name: 'Ada' }, 409, 'MEMBER_EXISTS'],
      ['POST', '/vendor/orders/ORD-NOPE/certificate', undefined, 404, 'NOT_FOUND'],
      ['POST', `/vendor/codes/${a.code.authCode}/raise`, { by: 0 }, 400, 'BAD_REQUEST'],
      ['POST', `/vendor/codes/${a.code.authCode}/raise`, { by: 'one' }, 400, 'BAD_REQUEST'],
      ['POST', `/vendor/codes/${userCode!.authCode}/raise`, {}, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/codes/NOPE/raise', {}, 404, 'UNKNOWN_AUTH_CODE'],
      ['POST', `/vendor/licenses/${key.licenseId}/rehost`, { lockCodes: [lock(2), typo, lock(3)] }, 422, 'LOCK_CODE_TYPO'],
      ['POST', `/vendor/licenses/${key.licenseId}/rehost`, { lockCodes: [lock(2), lock(3)] }, 400, 'LOCK_CODE_COUNT'],
      ['POST', `/vendor/licenses/${key.licenseId}/rehost`, { lockCodes: [lock(2)], hostDescription: 'x'.repeat(201) }, 400, 'BAD_REQUEST'],
      ['POST', '/vendor/licenses/LIC-NOPE/rehost', { lockCodes: [lock(2)] }, 404, 'LICENSE_NOT_FOUND'],
      ['GET', '/vendor/keys?site=S%201', undefined, 400, 'BAD_REQUEST'],
      ['GET', '/vendor/audit?limit=many', undefined, 400, 'BAD_REQUEST'],
      ['GET', '/vendor/audit?limit=0', undefined, 400, 'BAD_REQUEST'],
      ['DELETE', '/vendor/accounts/S-1', undefined, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, json, status, code] of cases) {
      const res = await s.request(`/api/v1${path}`, staff(s, { method, ...(json === undefined ? {} : { json }) }));
      expect([res.status, await errorCodeOf(res)], `${method} ${path} ${JSON.stringify(json)}`).toEqual([status, code]);
    }
    const notJson = await s.request('/api/v1/vendor/accounts', { method: 'POST', headers: { authorization: `Bearer ${s.staffToken}`, 'content-type': 'application/json' }, body: '{"siteNumber":' });
    expect([notJson.status, await errorCodeOf(notJson)]).toEqual([400, 'BAD_REQUEST']);
    expect(await state()).toBe(before);
    expect(await (await s.request('/api/v1/vendor/keys?site=S-404', staff(s))).json()).toEqual([]);
  });
});
