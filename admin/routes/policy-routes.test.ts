// The seat policy through the admin API: GET/PUT /policy (both formats, dry
// run with line and column, violations, versions) and GET /policy/explain;
// a forced check-in of a borrowed seat says when the seat comes back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../daemon/config.ts';
import { FloeNode } from '../../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, verifyBorrowToken, type LicensePayload } from '../../protocol/index.ts';
import { createAdminApp } from '../admin-app.ts';
import { configTokenVerifier, hashToken } from '../bearer-auth.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
const TOKEN = 'policy-routes-test-token';
const VIEWER_TOKEN = 'policy-routes-viewer';
const LOCK = 'LOCK-OF-THE-POLICY-TEST';

function key(overrides: Partial<LicensePayload>): string {
  return signLicenseKey(
    {
      v: 1, licenseId: 'LIC-P', authCode: 'AUTH-P', vendorKeyId: vendorKeyIdOf(vendor.publicKey), product: 'cad', version: '2', model: 'concurrent',
      seats: 2, components: [], issuedAt: 0, notBefore: 0, lockCodes: [LOCK], lingerSeconds: 0, hostsPerUserMax: 1, borrowAllowed: true, borrowHoursMax: 24,
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
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
}

let n = 0;
async function session(user: string): Promise<string> {
  const sessionId = `policy-s${++n}`;
  await node.propose({ type: 'session-open', sessionId, clientId: `client-${sessionId}`, user, host: `${user}-pc`, app: 'cad', sessionTtlMs: 60_000 });
  return sessionId;
}
async function checkout(sessionId: string): Promise<string> {
  const r = await node.propose({ type: 'checkout', sessionId, requestId: `r-${sessionId}-${++n}`, feature: 'cad', count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
  return r.reply.ok ? r.reply.type : `${r.reply.code}: ${r.reply.message}`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-admin-policy-'));
  node = await FloeNode.open({ config: parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] }), lockCode: LOCK });
  const configTokens = configTokenVerifier([hashToken(TOKEN)]);
  app = createAdminApp(node, {
    tokenSha256: [hashToken(TOKEN)],
    bodyBytesMax: 300 * 1024,
    verifyToken: (token) => (token === VIEWER_TOKEN ? { name: 'watcher', role: 'viewer' } : configTokens(token)),
  });
  expect((await call('POST', '/licenses', { key: key({}) })).status).toBe(201);
});

afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the policy routes', () => {
  it('GET /policy answers version 0 and an empty policy before any is set', async () => {
    expect(await call('GET', '/policy')).toMatchObject({ status: 200, body: { version: 0, format: 'floe', text: '' } });
  });

  it('a dry run of an options file with a BOM and CRLF reports errors with line and column and sets nothing', async () => {
    const text = '\uFEFFGROUP eng alice\r\nRESERVE 1 cad GROUP eng\r\nMAXX 2 cad USER bob\r\n';
    const r = await call('PUT', '/policy?dryRun=true', { format: 'flexlm-options', text });
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ code: 'POLICY_INVALID', errors: [{ line: 3, column: 1, code: 'POLICY_UNKNOWN_KEYWORD' }] });
    expect((await call('GET', '/policy')).body.version).toBe(0);
  });

  it('a dry run lists the leases the policy would refuse; the set keeps them unless asked, and takes effect', async () => {
    const bob = await session('bob');
    expect(await checkout(bob)).toBe('granted');
    const text = 'RESERVE 1 cad USER alice\nEXCLUDE cad USER bob\n';
    const dry = await call('PUT', '/policy?dryRun=true', { format: 'flexlm-options', text });
    expect(dry).toMatchObject({ status: 200, body: { dryRun: true, version: 1, violations: [{ user: 'bob', code: 'POLICY_EXCLUDED' }] } });
    expect(node.policy().version).toBe(0);
    const set = await call('PUT', '/policy', { format: 'flexlm-options', text });
    expect(set).toMatchObject({ status: 200, body: { dryRun: false, version: 1, revokedLeaseIds: [], violations: [{ user: 'bob' }] } });
    expect(node.leases('cad')).toHaveLength(1);
    expect(await checkout(await session('bob'))).toMatch(/^POLICY_EXCLUDED: Policy rule "exclude cad for user bob \(line 2\)"/);
    expect(await checkout(await session('carol'))).toMatch(/^NO_SEATS: .*reserved for others \(reserve 1 of cad for user alice \(line 1\)\)/);
    expect((await call('GET', '/pools')).body[0]).toMatchObject({ seatsInUse: 1, seatsReservedIdle: 1, seatsBorrowed: 0 });
    expect(await call('GET', '/policy')).toMatchObject({ status: 200, body: { version: 1, format: 'flexlm-options', text } });
  });

  it('expectedVersion refuses a change based on an older version; revokeViolating revokes', async () => {
    const text = '[[rules]]\nfeature = "cad"\nexclude = "user:bob"\n';
    expect(await call('PUT', '/policy', { format: 'floe', text, expectedVersion: 0 })).toMatchObject({ status: 409, body: { error: { code: 'POLICY_VERSION_CONFLICT' } } });
    const r = await call('PUT', '/policy', { format: 'floe', text, expectedVersion: 1, revokeViolating: true });
    expect(r).toMatchObject({ status: 200, body: { version: 2 } });
    expect(r.body.revokedLeaseIds).toHaveLength(1);
    expect(node.leases('cad')).toHaveLength(0);
  });

  it('refuses a lease ttl cap below twice the heartbeat, and a viewer token', async () => {
    const r = await call('PUT', '/policy', { format: 'flexlm-options', text: 'TIMEOUT cad 5' });
    expect(r).toMatchObject({ status: 422, body: { error: { code: 'POLICY_INVALID', errors: [{ line: 1, code: 'POLICY_INVALID' }] } } });
    expect((await call('PUT', '/policy', { format: 'floe', text: '' }, VIEWER_TOKEN)).status).toBe(403);
    expect((await call('PUT', '/policy', { format: 'yaml', text: '' })).status).toBe(400);
  });

  it('GET /policy/explain answers the decision and the deciding rule', async () => {
    await call('PUT', '/policy', { format: 'flexlm-options', text: 'GROUP interns dave\nEXCLUDE cad GROUP interns\nMAX 1 cad USER ALL_USERS' });
    expect(await call('GET', '/policy/explain?feature=cad&user=dave&host=h')).toMatchObject({
      status: 200,
      body: { decision: 'refused', code: 'POLICY_EXCLUDED', rules: ['exclude cad for group interns (line 2)'], policyVersion: 3 },
    });
    expect(await call('GET', '/policy/explain?feature=cad&user=erin&host=h&app=x')).toMatchObject({ status: 200, body: { decision: 'granted', rules: ['max 1 of cad per user (line 3)'] } });
    expect((await call('GET', '/policy/explain?feature=cad')).status).toBe(400);
  });

  it('a borrowed seat shows in pools and leases; revoking it while its client is offline says when it comes back', async () => {
    await call('PUT', '/policy', { format: 'floe', text: '' });
    const s = await session('erin');
    const b = await node.borrow(s, { requestId: `borrow-${s}`, feature: 'cad', hours: 2, fingerprint: 'fp-erin' });
    if (!b.ok) throw new Error(b.code);
    expect(verifyBorrowToken(b.reply.token, { publicKey: b.reply.publicKey, nowMs: Date.now(), fingerprint: 'fp-erin' }).ok).toBe(true);
    expect((await call('GET', '/pools')).body[0]).toMatchObject({ seatsInUse: 1, seatsBorrowed: 1 });
    expect((await call('GET', '/leases')).body[0]).toMatchObject({ leaseId: b.reply.leaseId, borrowed: true, borrowRevoked: false });
    await node.propose({ type: 'session-close', sessionId: s });
    const r = await call('DELETE', `/leases/${b.reply.leaseId}`, { reason: 'laptop lost' });
    expect(r).toMatchObject({ status: 200, body: { leaseId: b.reply.leaseId, seatFree: false, seatFreeBy: b.reply.expiresAt } });
    expect(r.body.message).toMatch(/comes back then, or as soon as that client connects/);
    expect((await call('GET', '/leases')).body[0]).toMatchObject({ borrowRevoked: true });
  });
});
