// Named users of authorized-user pools through the admin API (issue 12, B2:
// without this route every checkout of such a pool answered
// NOT_AUTHORIZED_USER, since nothing could name a user).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../daemon/config.ts';
import { FloeNode } from '../../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../protocol/index.ts';
import { createAdminApp } from '../admin-app.ts';
import { configTokenVerifier, hashToken } from '../bearer-auth.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
const TOKEN = 'users-routes-test-token';
const VIEWER_TOKEN = 'users-routes-viewer';
const LOCK = 'LOCK-OF-THE-USERS-TEST';

function key(overrides: Partial<LicensePayload>): string {
  return signLicenseKey(
    {
      v: 1,
      licenseId: 'LIC-U',
      authCode: 'AUTH-U',
      vendorKeyId: vendorKeyIdOf(vendor.publicKey),
      product: 'cad',
      version: '2',
      model: 'authorized-user',
      seats: 2,
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

async function call(method: string, path: string, body?: unknown, token = TOKEN) {
  const res = await app.request(`/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

let session = 0;
/** A checkout by `user` from a new session: the pool's reply or error code. */
async function checkoutAs(user: string, feature = 'cad'): Promise<string> {
  const sessionId = `users-s${++session}`;
  await node.propose({ type: 'session-open', sessionId, clientId: `client-${sessionId}`, user, host: `${user}-pc`, app: 'cad', sessionTtlMs: 60_000 });
  const r = await node.propose({ type: 'checkout', sessionId, requestId: `r-${sessionId}`, feature, count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
  return r.reply.ok ? r.reply.type : r.reply.code;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-admin-users-'));
  node = await FloeNode.open({ config: parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] }), lockCode: LOCK });
  const configTokens = configTokenVerifier([hashToken(TOKEN)]);
  app = createAdminApp(node, {
    tokenSha256: [hashToken(TOKEN)],
    bodyBytesMax: 32 * 1024,
    verifyToken: (token) => (token === VIEWER_TOKEN ? { name: 'watcher', role: 'viewer' } : configTokens(token)),
  });
  for (const k of [key({}), key({ licenseId: 'LIC-C', product: 'viewer', model: 'concurrent', seats: 5 })]) {
    expect((await call('POST', '/licenses', { key: k })).status).toBe(201);
  }
});

afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('PUT /pools/:feature/users', () => {
  it('names the users of an authorized-user pool, who can then check a seat out; others still cannot', async () => {
    expect(await checkoutAs('alice')).toBe('NOT_AUTHORIZED_USER');
    expect(await call('PUT', '/pools/cad/users', { users: ['alice', 'bob'] })).toEqual({
      status: 200,
      body: { feature: 'cad', version: '2', users: ['alice', 'bob'], seatsTotal: 2, seatsInUse: 0 },
    });
    expect(await checkoutAs('alice')).toBe('granted');
    expect(await checkoutAs('carol')).toBe('NOT_AUTHORIZED_USER');
    expect(await call('GET', '/pools/cad/users')).toEqual({
      status: 200,
      body: { feature: 'cad', version: '2', users: ['alice', 'bob'], seatsTotal: 2, seatsInUse: 1 },
    });
    const rows = (await call('GET', '/usage?feature=cad')).body as { kind: string; user: string }[];
    expect(rows.filter((r) => r.kind === 'user-added').map((r) => r.user).sort()).toEqual(['alice', 'bob']);
  });

  it('replacing the list revokes the leases of a user no longer named', async () => {
    expect((await call('PUT', '/pools/cad/users', { users: ['bob', 'carol'], version: '2' })).status).toBe(200);
    expect(node.leases('cad').map((l) => l.user)).toEqual([]);
    expect(await checkoutAs('carol')).toBe('granted');
    const rows = (await call('GET', '/usage?feature=cad')).body as { kind: string; user: string; reason: string }[];
    expect(rows.find((r) => r.kind === 'revoke')).toMatchObject({ user: 'alice', reason: 'user-unassigned' });
  });

  it('refuses more users than seats, a concurrent pool, an unknown pool or version, bad names and a viewer token, changing nothing', async () => {
    const cases: [string, unknown, number, string, string?][] = [
      ['/pools/cad/users', { users: ['a', 'b', 'c'] }, 422, 'USERS_EXCEED_SEATS'],
      ['/pools/viewer/users', { users: ['a'] }, 422, 'POOL_NOT_AUTHORIZED_USER'],
      ['/pools/nothing/users', { users: ['a'] }, 404, 'POOL_NOT_FOUND'],
      ['/pools/cad/users', { users: ['a'], version: '9' }, 404, 'POOL_NOT_FOUND'],
      ['/pools/cad/users', { users: [''] }, 400, 'BAD_REQUEST'],
      ['/pools/cad/users', { users: ['x'.repeat(129)] }, 400, 'BAD_REQUEST'],
      ['/pools/cad/users', { users: 'alice' }, 400, 'BAD_REQUEST'],
      ['/pools/cad/users', '{"users":', 400, 'BAD_REQUEST'],
      ['/pools/cad/users', { users: ['a'], extra: 1 }, 400, 'BAD_REQUEST'],
      ['/pools/cad/users', { users: ['a'] }, 403, 'FORBIDDEN', VIEWER_TOKEN],
    ];
    for (const [path, body, status, code, token] of cases) {
      expect(await call('PUT', path, body, token), JSON.stringify(body)).toMatchObject({ status, body: { error: { code } } });
    }
    expect((await call('GET', '/pools/cad/users', undefined, VIEWER_TOKEN)).body.users).toEqual(['bob', 'carol']);
  });

  it('asks which version when the feature has several authorized-user pools', async () => {
    expect((await call('POST', '/licenses', { key: key({ licenseId: 'LIC-U3', version: '3' }) })).status).toBe(201);
    const r = await call('PUT', '/pools/cad/users', { users: ['dave'] });
    expect(r).toMatchObject({ status: 409, body: { error: { code: 'VERSION_REQUIRED' } } });
    expect(r.body.error.message).toContain('2, 3');
    expect(await call('PUT', '/pools/cad/users', { users: ['dave'], version: '3' })).toMatchObject({ status: 200, body: { version: '3', users: ['dave'] } });
    expect((await call('GET', '/pools/cad/users?version=2')).body.users).toEqual(['bob', 'carol']);
  });
});
