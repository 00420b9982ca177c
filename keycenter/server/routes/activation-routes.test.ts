import { describe, expect, it } from 'vitest';
import { verifyLicenseKey } from '../../../protocol/index.ts';
import { DAY_MS, lock, T0 } from '../../key-center.test-support.ts';
import { errorCodeOf, testServer } from '../server.test-support.ts';

const stats = { product: 'stats', version: '29', model: 'concurrent', seats: 10 } as const;

function typo(code: string): string {
  const i = code[0] === 'X' ? 1 : 0;
  return code.slice(0, i) + (code[i] === 'X' ? 'Y' : 'X') + code.slice(i + 1);
}

describe('POST /api/v1/activations', () => {
  it('answers 201 with the key; the same code and lock codes again answer the same key', async () => {
    const s = await testServer();
    const [e] = await s.kc.entitle(stats);
    const body = { authCode: e!.authCode, lockCodes: [lock(1), lock(2), lock(3)], hostDescription: 'cluster, Minneapolis' };
    const res = await s.request('/api/v1/activations', { method: 'POST', json: body });
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { licenseId: string; key: string };
    expect(answer.licenseId).toMatch(/^LIC-/);
    const verdict = verifyLicenseKey(answer.key, { vendorKeys: [s.vendorKey], nowMs: T0, lockCode: lock(2) });
    expect(verdict.ok && verdict.license).toMatchObject({ licenseId: answer.licenseId, seats: 10, hostDescription: 'cluster, Minneapolis' });
    const again = await s.request('/api/v1/activations', { method: 'POST', json: { ...body, lockCodes: [lock(3), lock(2), lock(1)] } });
    expect([again.status, await again.json()]).toEqual([201, answer]);
    expect((await s.kc.listKeys())[0]?.issuedBy).toBe('api:192.0.2.1');
  });

  it('answers the CLI\'s refusals with their codes and fitting statuses, and issues nothing', async () => {
    const s = await testServer();
    const [e] = await s.kc.entitle(stats);
    const [au] = await s.kc.entitle({ ...stats, model: 'authorized-user', seats: 2 });
    const [temp] = await s.kc.entitle({ ...stats, days: 1 });
    const post = (json: unknown) => s.request('/api/v1/activations', { method: 'POST', json });
    const first = (await (await post({ authCode: e!.authCode, lockCodes: [lock(1)] })).json()) as { licenseId: string };
    await post({ authCode: au!.authCode, lockCodes: [lock(1)] });
    const cases: [unknown, number, string, string?][] = [
      [{ authCode: e!.authCode, lockCodes: [lock(2)] }, 409, 'ALREADY_ACTIVATED'],
      [{ authCode: typo(e!.authCode), lockCodes: [lock(2)] }, 422, 'AUTH_CODE_TYPO', 'authCode'],
      [{ authCode: 'not a code', lockCodes: [lock(2)] }, 400, 'AUTH_CODE_MALFORMED', 'authCode'],
      [{ authCode: au!.authCode.replace(/.$/, (ch) => (ch === '0' ? '1' : '0')), lockCodes: [lock(2)] }, 422, 'AUTH_CODE_TYPO'],
      [{ authCode: e!.authCode, lockCodes: [lock(2), typo(lock(3)), lock(4)] }, 422, 'LOCK_CODE_TYPO', 'lockCodes.1'],
      [{ authCode: e!.authCode, lockCodes: ['12345'] }, 400, 'LOCK_CODE_MALFORMED', 'lockCodes.0'],
      [{ authCode: e!.authCode, lockCodes: [lock(2), lock(3)] }, 400, 'LOCK_CODE_COUNT', 'lockCodes'],
      [{ authCode: e!.authCode, lockCodes: [] }, 400, 'LOCK_CODE_COUNT'],
      [{ authCode: e!.authCode, lockCodes: [lock(2), lock(3), lock(2)] }, 400, 'DUPLICATE_LOCK_CODE', 'lockCodes.2'],
      [{ authCode: au!.authCode, lockCodes: [lock(2)] }, 409, 'SEATS_EXHAUSTED'],
      [{ authCode: e!.authCode, lockCodes: lock(2) }, 400, 'BAD_REQUEST', 'lockCodes'],
      [{ authCode: e!.authCode, lockCodes: [lock(2)], extra: 1 }, 400, 'BAD_REQUEST'],
      [{ lockCodes: [lock(2)] }, 400, 'BAD_REQUEST', 'authCode'],
    ];
    for (const [body, status, code, field] of cases) {
      const res = await post(body);
      const answer = (await res.json()) as { error: { code: string; message: string; field?: string } };
      expect([res.status, answer.error.code], JSON.stringify(body)).toEqual([status, code]);
      if (field !== undefined) expect(answer.error.field, code).toBe(field);
    }
    const already = (await (await post({ authCode: e!.authCode, lockCodes: [lock(9)] })).json()) as { error: { message: string } };
    expect(already.error.message).toContain(first.licenseId);
    // A well-formed code this key center never issued: take a real code of another key center.
    const other = await testServer();
    const [foreign] = await other.kc.entitle(stats);
    const unknown = await post({ authCode: foreign!.authCode, lockCodes: [lock(1)] });
    expect([unknown.status, await errorCodeOf(unknown)]).toEqual([404, 'UNKNOWN_AUTH_CODE']);
    s.clock.nowMs = T0 + 2 * DAY_MS;
    const expired = await post({ authCode: temp!.authCode, lockCodes: [lock(1)] });
    expect([expired.status, await errorCodeOf(expired)]).toEqual([410, 'ENTITLEMENT_EXPIRED']);
    expect(await s.kc.listKeys()).toHaveLength(2);
  });

  it('refuses a body that is not JSON, and one too large, with BAD_REQUEST', async () => {
    const s = await testServer();
    const notJson = await s.request('/api/v1/activations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"authCode":' });
    expect([notJson.status, await errorCodeOf(notJson)]).toEqual([400, 'BAD_REQUEST']);
    const huge = await s.request('/api/v1/activations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"authCode":"${'A'.repeat(300_000)}"}` });
    expect([huge.status, await errorCodeOf(huge)]).toEqual([413, 'BAD_REQUEST']);
  });

  it('is rate-limited per client address, with Retry-After', async () => {
    const s = await testServer({ rateLimits: { activationPerAddress: { hitsMax: 3, windowMs: 60_000 } } });
    const [e] = await s.kc.entitle(stats);
    const post = (address: string) => s.request('/api/v1/activations', { method: 'POST', json: { authCode: e!.authCode, lockCodes: [lock(1)] }, address });
    for (let i = 0; i < 3; i++) expect((await post('198.51.100.7')).status).toBe(201);
    const limited = await post('198.51.100.7');
    expect([limited.status, await errorCodeOf(limited)]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await post('198.51.100.8')).status).toBe(201);
  });

  it('is rate-limited per code, whatever the address (guessing lock codes for one code stops)', async () => {
    const s = await testServer({ rateLimits: { activationPerCode: { hitsMax: 2, windowMs: 60_000 } } });
    const [e] = await s.kc.entitle(stats);
    const [other] = await s.kc.entitle(stats);
    const post = (authCode: string, n: number) => s.request('/api/v1/activations', { method: 'POST', json: { authCode, lockCodes: [lock(n)] }, address: `203.0.113.${n}` });
    expect((await post(e!.authCode, 1)).status).toBe(201);
    expect((await post(e!.authCode.toLowerCase(), 2)).status).toBe(409);
    expect(await errorCodeOf(await post(e!.authCode, 3))).toBe('RATE_LIMITED');
    expect((await post(other!.authCode, 4)).status).toBe(201);
  });
});

describe('POST /api/v1/lock-codes/check', () => {
  it('answers the canonical lock code, or the typo on the field', async () => {
    const s = await testServer();
    const ok = await s.request('/api/v1/lock-codes/check', { method: 'POST', json: { lockCode: lock(1).toLowerCase().replaceAll('-', ' ') } });
    expect([ok.status, await ok.json()]).toEqual([200, { lockCode: lock(1) }]);
    const bad = await s.request('/api/v1/lock-codes/check', { method: 'POST', json: { lockCode: typo(lock(1)) } });
    expect([bad.status, await bad.json()]).toEqual([422, { error: { code: 'LOCK_CODE_TYPO', message: expect.stringContaining('check character'), field: 'lockCode' } }]);
  });
});

describe('GET /api/v1/health and /api/v1/openapi.json', () => {
  it('answer without credentials; the document lists every route', async () => {
    const s = await testServer();
    expect(await (await s.request('/api/v1/health')).json()).toEqual({ status: 'ok', vendorKeyId: s.kc.vendorKeyId });
    const doc = (await (await s.request('/api/v1/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/activations', '/api/v1/vendor/accounts', '/api/v1/vendor/licenses/{licenseId}/rehost', '/api/v1/codes', '/api/v1/hosts']),
    );
    const missing = await s.request('/api/v1/nothing');
    expect([missing.status, await errorCodeOf(missing)]).toEqual([404, 'NOT_FOUND']);
  });
});
