// The admin API through app.request(): no socket, a real FloeNode underneath.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { hc } from 'hono/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../daemon/config.ts';
import { FloeNode } from '../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../protocol/index.ts';
import { createAdminApp, type AdminApp } from './admin-app.ts';
import { configTokenVerifier, hashToken } from './bearer-auth.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(3));
const TOKEN = 'admin-app-test-token';
const VIEWER_TOKEN = 'viewer-test-token';
const LOCK = 'LOCKCODE-OF-THIS-NODE';

function key(overrides: Partial<LicensePayload> = {}): string {
  return signLicenseKey(
    {
      v: 1,
      licenseId: 'LIC-A',
      authCode: 'AUTH-A',
      vendorKeyId: vendorKeyIdOf(vendor.publicKey),
      product: 'cad',
      version: '2',
      model: 'concurrent',
      seats: 3,
      components: [],
      issuedAt: 0,
      notBefore: 0,
      lockCodes: [LOCK],
      lingerSeconds: 0,
      hostsPerUserMax: 1,
      ...overrides,
    },
    vendor.secretKey,
  );
}

let dir: string;
let node: FloeNode;
let app: ReturnType<typeof createAdminApp>;

async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers['authorization'] = `Bearer ${token}`;
  const res = await app.request(`/api/v1${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-admin-'));
  const config = parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
  node = await FloeNode.open({ config, lockCode: LOCK });
  const tokenSha256 = [hashToken('another-token'), hashToken(TOKEN)];
  const configTokens = configTokenVerifier(tokenSha256);
  app = createAdminApp(node, {
    tokenSha256,
    bodyBytesMax: 32 * 1024,
    verifyToken: (token) => (token === VIEWER_TOKEN ? { name: 'watcher', role: 'viewer' } : configTokens(token)),
  });
});

afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('admin API', () => {
  it('GET /health needs no token and names the node and its role', async () => {
    expect(await call('GET', '/health', undefined, null)).toMatchObject({ status: 200, body: { status: 'ok', nodeId: 'n1', role: 'leader' } });
  });

  it('answers 401 UNAUTHORIZED without a token and 403 FORBIDDEN with a wrong one, changing nothing', async () => {
    expect(await call('GET', '/pools', undefined, null)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    const res = await app.request('/api/v1/pools');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="floe"');
    expect(await call('POST', '/licenses', { key: key() }, 'wrong-token')).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(node.licenses()).toEqual([]);
  });

  it('imports a verified key (201) and lists its pool; a refused key says why', async () => {
    expect(await call('POST', '/licenses', { key: key() })).toEqual({ status: 201, body: { licenseId: 'LIC-A', features: ['cad'] } });
    expect((await call('GET', '/pools')).body).toEqual([
      { feature: 'cad', version: '2', model: 'concurrent', seatsTotal: 3, seatsInUse: 0, seatsReservedIdle: 0, seatsBorrowed: 0, seatsLingering: 0, queued: 0, lingerMs: 0, users: [] },
    ]);
    expect(await call('POST', '/licenses', { key: key() })).toMatchObject({ status: 409, body: { error: { code: 'LICENSE_EXISTS' } } });
    const tampered = key({ licenseId: 'LIC-B' }).replace(/\.([A-Za-z0-9_-]{10})/, '.AAAAAAAAAA');
    expect((await call('POST', '/licenses', { key: tampered })).body.error.code).toMatch(/^LICENSE_(SIGNATURE_INVALID|MALFORMED)$/);
    expect(await call('POST', '/licenses', { key: key({ licenseId: 'LIC-C', lockCodes: ['ELSEWHERE'] }) })).toMatchObject({
      status: 422,
      body: { error: { code: 'LOCK_CODE_MISMATCH' } },
    });
    expect(await call('POST', '/licenses', { key: key({ licenseId: 'LIC-D', notBefore: 0, expiresAt: 1000 }) })).toMatchObject({
      status: 422,
      body: { error: { code: 'LICENSE_EXPIRED' } },
    });
    expect(await call('POST', '/licenses', '{"key":')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
    expect(await call('POST', '/licenses', { key: 'x'.repeat(40_000) })).toMatchObject({ status: 413, body: { error: { code: 'BAD_REQUEST' } } });
    expect((await call('GET', '/licenses')).body.map((l: any) => l.licenseId)).toEqual(['LIC-A']);
  });

  it('lists leases and force-checks one in; an unknown lease is 404 LEASE_NOT_FOUND', async () => {
    await node.propose({ type: 'session-open', sessionId: 'sess-1', clientId: 'client-admin', user: 'bob', host: 'pc-9', app: 'cad', sessionTtlMs: 60_000 });
    const r = await node.propose({ type: 'checkout', sessionId: 'sess-1', requestId: 'req-admin-1', feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
    if (!r.reply.ok || r.reply.type !== 'granted') throw new Error('checkout failed');
    const leaseId = r.reply.lease.leaseId;
    const leases = await call('GET', '/leases?feature=cad');
    expect(leases.body).toMatchObject([{ leaseId, feature: 'cad', user: 'bob', host: 'pc-9', clientId: 'client-admin' }]);
    expect((await call('GET', '/leases?feature=other')).body).toEqual([]);
    expect(await call('DELETE', `/leases/${leaseId}`, { reason: 'user left' })).toEqual({ status: 200, body: { leaseId, seatFree: true, message: 'The seat is free.' } });
    expect((await call('GET', '/leases')).body).toEqual([]);
    expect(await call('DELETE', `/leases/${leaseId}`)).toMatchObject({ status: 404, body: { error: { code: 'LEASE_NOT_FOUND' } } });
    const usage = (await call('GET', '/usage?feature=cad')).body as { kind: string; leaseId: string; reason: string }[];
    expect(usage.filter((u) => u.leaseId === leaseId).map((u) => [u.kind, u.reason])).toEqual([
      ['force-checkin', 'user left'],
      ['checkout', ''],
    ]);
  });

  it("GET /cluster shows this node's clocks: cluster time, the wall clock, how far apart, and its own skew 0", async () => {
    const { status, body } = await call('GET', '/cluster');
    expect(status).toBe(200);
    expect(body.clock).toMatchObject({ clusterTimeMs: expect.any(Number), wallMs: expect.any(Number), stepCount: 0, lastStepMs: 0 });
    expect(Math.abs(body.clock.wallAheadMs)).toBeLessThan(60_000);
    expect(body.nodes).toMatchObject([{ id: 'n1', clockSkewMs: 0 }]);
  });

  it('removes a license; an unknown route is 404 NOT_FOUND', async () => {
    expect(await call('DELETE', '/licenses/LIC-A')).toEqual({ status: 200, body: { licenseId: 'LIC-A' } });
    expect(await call('DELETE', '/licenses/LIC-A')).toMatchObject({ status: 404, body: { error: { code: 'LICENSE_NOT_FOUND' } } });
    expect(await call('GET', '/nothing-here')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('lets a viewer token read but answers 403 FORBIDDEN, naming the role, when it tries a change', async () => {
    expect((await call('GET', '/pools', undefined, VIEWER_TOKEN)).status).toBe(200);
    const refused = await call('POST', '/licenses', { key: key({ licenseId: 'LIC-V' }) }, VIEWER_TOKEN);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(refused.body.error.message).toContain('admin');
    expect(await call('DELETE', '/leases/any', { reason: 'x' }, VIEWER_TOKEN)).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(node.licenses().map((l) => l.licenseId)).not.toContain('LIC-V');
  });

  it('answers a body that is not JSON 415 BAD_REQUEST and a query of the wrong shape 400 BAD_REQUEST', async () => {
    const res = await app.request('/api/v1/licenses', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/plain' }, body: 'x' });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    expect(await call('GET', '/usage?limit=0')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
  });

  it('wraps a ?stale=true read in an envelope saying how far behind the node may be', async () => {
    const stale = await call('GET', '/usage?stale=true&limit=1');
    expect(stale.body).toMatchObject({ stale: true, nodeId: 'n1', role: 'leader', lagEntries: 0, data: expect.any(Array) });
  });

  it('serves its OpenAPI document without a token, listing every route', async () => {
    const doc = await call('GET', '/openapi.json', undefined, null);
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths).sort()).toEqual(
      expect.arrayContaining([
        '/api/v1/health',
        '/api/v1/cluster',
        '/api/v1/cluster/members',
        '/api/v1/cluster/members/{id}',
        '/api/v1/licenses',
        '/api/v1/licenses/{licenseId}',
        '/api/v1/pools',
        '/api/v1/leases',
        '/api/v1/leases/{leaseId}',
        '/api/v1/sessions',
        '/api/v1/usage',
      ]),
    );
    expect(doc.body.paths['/api/v1/licenses'].post.requestBody.content['application/json'].schema.required).toEqual(['key']);
  });

  it('gives the CLI a typed client (hc<AdminApp>) that reads the pools', async () => {
    const client = hc<AdminApp>('http://admin.test', { fetch: (input: string | URL | Request, init?: RequestInit) => app.request(input, init), headers: { authorization: `Bearer ${TOKEN}` } });
    const res = await client.api.v1.pools.$get({ query: {} });
    expect(res.status).toBe(200);
    const pools = await res.json();
    expect(Array.isArray(pools)).toBe(true);
  });
});
