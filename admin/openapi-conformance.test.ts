// Every route's real answers, checked against the OpenAPI document the
// server publishes (GET /api/v1/openapi.json): each operation the document
// lists is called, and each answer's status must be one it documents, with
// a body its JSON Schema accepts (zod's fromJSONSchema over the document's
// schemas, $refs resolved). A route that answered something undocumented,
// or a document that drifted from the code, fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ADMIN_TOKEN, licenseKey, openAdminFixture, type AdminFixture } from './admin-app.test-support.ts';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

let f: AdminFixture;
let doc: OpenApiDocument;
/** "METHOD /path/{param}" of each call made, to check every operation was. */
const called = new Set<string>();

/** The document's schema with every $ref replaced by what it names. */
function resolveRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(resolveRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (ref !== undefined) return resolveRefs(doc.components?.schemas?.[ref.replace('#/components/schemas/', '')]);
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, resolveRefs(v)]));
}

/**
 * Calls `method path` and checks the answer against the document's
 * operation `template` (the path with {params}); answers the body.
 */
async function check(method: string, template: string, path: string, options: { body?: unknown; token?: string | null; contentType?: string } = {}): Promise<{ status: number; body: any }> {
  const token = options.token === undefined ? ADMIN_TOKEN : options.token;
  const headers: Record<string, string> = {};
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await f.app.request(path, { method, headers, ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}) });
  called.add(`${method} ${template}`);
  const operation = doc.paths[template]?.[method.toLowerCase()];
  expect(operation, `${method} ${template} is in the document`).toBeDefined();
  const documented = operation!.responses[String(res.status)];
  expect(documented, `${method} ${path} answered ${res.status}, which its operation does not document`).toBeDefined();
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const content = documented!.content ?? {};
  expect(Object.keys(content), `${method} ${path} ${res.status} answered ${type}`).toContain(type);
  if (type === 'text/event-stream') {
    await res.body?.cancel();
    return { status: res.status, body: undefined };
  }
  if (type !== 'application/json') return { status: res.status, body: await res.text() };
  const body = await res.json();
  const schema = z.fromJSONSchema(resolveRefs(content[type]!.schema) as never);
  const parsed = schema.safeParse(body);
  expect(parsed.success, `${method} ${path} ${res.status}: ${JSON.stringify(parsed.error?.issues.slice(0, 3))} in ${JSON.stringify(body).slice(0, 400)}`).toBe(true);
  return { status: res.status, body };
}

beforeAll(async () => {
  f = await openAdminFixture();
  doc = (await (await f.app.request('/api/v1/openapi.json')).json()) as OpenApiDocument;
});
afterAll(() => f.close());

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, and every answer of every route matches it', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await check('GET', '/api/v1/health', '/api/v1/health', { token: null });
    await check('GET', '/api/v1/pools', '/api/v1/pools', { token: null });
    await check('GET', '/api/v1/pools', '/api/v1/pools', { token: 'wrong' });
    await check('GET', '/api/v1/cluster', '/api/v1/cluster');
    await check('POST', '/api/v1/cluster/members', '/api/v1/cluster/members', { body: { id: 'bad id' } });
    await check('POST', '/api/v1/licenses', '/api/v1/licenses', { body: { key: licenseKey({ licenseId: 'LIC-A', seats: 2, expiresAt: Date.UTC(2099, 0, 1) }) } });
    await check('POST', '/api/v1/licenses', '/api/v1/licenses', { body: { key: licenseKey({ licenseId: 'LIC-A' }) } });
    await check('POST', '/api/v1/licenses', '/api/v1/licenses', { body: { key: licenseKey({ licenseId: 'LIC-X', lockCodes: ['ELSEWHERE'] }) } });
    await check('POST', '/api/v1/licenses', '/api/v1/licenses', { body: '{"key":' });
    await check('POST', '/api/v1/licenses', '/api/v1/licenses', { body: 'key', contentType: 'text/plain' });
    await check('POST', '/api/v1/licenses', '/api/v1/licenses', { body: { key: 'x'.repeat(40_000) } });
    await check('POST', '/api/v1/licenses', '/api/v1/licenses', { body: { key: licenseKey({ licenseId: 'LIC-U', model: 'authorized-user', product: 'sim', seats: 2 }) } });
    await check('GET', '/api/v1/licenses', '/api/v1/licenses');
    await check('GET', '/api/v1/licenses', '/api/v1/licenses?stale=true');
    const leaseId = await f.checkout('cad', 'ann');
    await f.checkout('cad', 'bob');
    await f.checkout('cad', 'cid').catch(() => {});
    await check('GET', '/api/v1/pools', '/api/v1/pools');
    await check('GET', '/api/v1/pools', '/api/v1/pools?stale=true');
    await check('GET', '/api/v1/leases', '/api/v1/leases?feature=cad');
    await check('GET', '/api/v1/sessions', '/api/v1/sessions');
    await check('GET', '/api/v1/usage', '/api/v1/usage?feature=cad&limit=5');
    await check('GET', '/api/v1/usage', '/api/v1/usage?limit=0');
    await check('DELETE', '/api/v1/leases/{leaseId}', `/api/v1/leases/${leaseId}`, { body: { reason: 'conformance' } });
    await check('DELETE', '/api/v1/leases/{leaseId}', `/api/v1/leases/${leaseId}`);
    await check('PUT', '/api/v1/pools/{feature}/users', '/api/v1/pools/sim/users', { body: { users: ['ann', 'bob'] } });
    await check('PUT', '/api/v1/pools/{feature}/users', '/api/v1/pools/nothing/users', { body: { users: ['ann'] } });
    await check('GET', '/api/v1/pools/{feature}/users', '/api/v1/pools/sim/users');
    const token = await check('POST', '/api/v1/tokens', '/api/v1/tokens', { body: { role: 'viewer', name: 'conformance' } });
    await check('POST', '/api/v1/tokens', '/api/v1/tokens', { body: { role: 'viewer', name: 'conformance' } });
    await check('GET', '/api/v1/tokens', '/api/v1/tokens');
    await check('DELETE', '/api/v1/leases/{leaseId}', '/api/v1/leases/any', { token: token.body.token, body: { reason: 'x' } });
    await check('DELETE', '/api/v1/tokens/{name}', '/api/v1/tokens/conformance');
    await check('DELETE', '/api/v1/tokens/{name}', '/api/v1/tokens/conformance');
    await check('DELETE', '/api/v1/tokens/{name}', '/api/v1/tokens/config-1');
    await check('GET', '/api/v1/audit', '/api/v1/audit?limit=3');
    await check('GET', '/api/v1/reports/usage', '/api/v1/reports/usage?interval=hour&by=user');
    await check('GET', '/api/v1/reports/usage', '/api/v1/reports/usage?format=csv');
    await check('GET', '/api/v1/reports/usage', '/api/v1/reports/usage?from=2000-01-01&interval=hour');
    await check('GET', '/api/v1/reports/usage', '/api/v1/reports/usage?from=soon');
    await check('GET', '/api/v1/reports/utilization', '/api/v1/reports/utilization?feature=cad');
    await check('GET', '/api/v1/events', '/api/v1/events');
    await check('GET', '/api/v1/backup', '/api/v1/backup');
    await check('GET', '/metrics', '/metrics');
    await check('DELETE', '/api/v1/licenses/{licenseId}', '/api/v1/licenses/LIC-A');
    await check('DELETE', '/api/v1/licenses/{licenseId}', '/api/v1/licenses/LIC-A');
    await check('GET', '/api/v1/licenses/retired', '/api/v1/licenses/retired');
    await check('GET', '/api/v1/lock-codes', '/api/v1/lock-codes');
    await check('POST', '/api/v1/licenses/activate', '/api/v1/licenses/activate', { body: { authCode: 'C9XKP-X9CS0-WH5B3-KZWCP' } });
    // Port 9 (discard) on loopback: nothing listens, so the key center is unreachable.
    await check('POST', '/api/v1/licenses/activate', '/api/v1/licenses/activate', { body: { authCode: 'C9XKP-X9CS0-WH5B3-KZWCP', keyCenterUrl: 'http://127.0.0.1:9/' } });
    await check('POST', '/api/v1/licenses/activate', '/api/v1/licenses/activate', { body: { authCode: '' } });
    await check('POST', '/api/v1/licenses/activation-request', '/api/v1/licenses/activation-request', { body: { authCode: 'C9XKP-X9CS0-WH5B3-KZWCP' } });
    await check('POST', '/api/v1/licenses/activation-request', '/api/v1/licenses/activation-request', { body: { authCode: 'C9XKP-X9CS0-WH5B3-KZWCQ' } });
    await check('POST', '/api/v1/licenses/activation-request', '/api/v1/licenses/activation-request', { body: { authCode: '', extra: 1 } });
    await check('POST', '/api/v1/licenses/key-file', '/api/v1/licenses/key-file', {
      body: { format: 'floe-license-key', licenseId: 'LIC-KF', key: licenseKey({ licenseId: 'LIC-KF' }), keyCenterUrl: 'https://keys.example.com' },
    });
    await check('POST', '/api/v1/licenses/key-file', '/api/v1/licenses/key-file', { body: { format: 'floe-license-key', key: 'x' } });
    await check('PUT', '/api/v1/policy', '/api/v1/policy?dryRun=true', { body: { format: 'flexlm-options', text: 'RESERVE 1 sim USER ann' } });
    await check('PUT', '/api/v1/policy', '/api/v1/policy', { body: { format: 'flexlm-options', text: 'RESERVE 1 sim USER ann' } });
    await check('PUT', '/api/v1/policy', '/api/v1/policy', { body: { format: 'flexlm-options', text: 'RESERVE x' } });
    await check('GET', '/api/v1/policy', '/api/v1/policy');
    await check('GET', '/api/v1/policy/explain', '/api/v1/policy/explain?feature=sim&user=bob&host=h');
    await check('DELETE', '/api/v1/cluster/members/{id}', '/api/v1/cluster/members/n1');
  });

  it('its schemas, as this test reads them, refuse a body that breaks them', () => {
    const pools = doc.paths['/api/v1/pools']!['get']!.responses['200']!.content!['application/json']!.schema;
    const schema = z.fromJSONSchema(resolveRefs(pools) as never);
    expect(schema.safeParse([{ feature: 'cad', version: '2', model: 'concurrent', seatsTotal: 3, seatsInUse: 0, seatsReservedIdle: 0, seatsBorrowed: 0, seatsLingering: 0, queued: 0, lingerMs: 0, users: [] }]).success).toBe(true);
    expect(schema.safeParse([{ feature: 'cad', version: '2', model: 'concurrent', seatsTotal: '3', seatsInUse: 0, queued: 0, lingerMs: 0, users: [] }]).success).toBe(false);
    expect(schema.safeParse([{ feature: 'cad' }]).success).toBe(false);
  });

  it('was exercised on every operation it lists', () => {
    const listed = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(listed.filter((op) => !called.has(op))).toEqual([]);
  });
});
