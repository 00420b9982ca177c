// GET /lock-codes and the license routes' rehost and removal answers, through
// app.request() over a real FloeNode whose peers' lock codes the test sets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../daemon/config.ts';
import { FloeNode, type PeerLockState } from '../../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../protocol/index.ts';
import { createAdminApp } from '../admin-app.ts';
import { hashToken } from '../bearer-auth.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(4));
const TOKEN = 'lock-code-routes-token';

function key(overrides: Partial<LicensePayload>): string {
  return signLicenseKey(
    {
      v: 1, licenseId: 'LIC-1', authCode: 'AUTH-1', vendorKeyId: vendorKeyIdOf(vendor.publicKey), product: 'cad', version: '1',
      model: 'concurrent', seats: 5, components: [], issuedAt: 0, notBefore: 0, lockCodes: ['A'], lingerSeconds: 0, hostsPerUserMax: 1,
      ...overrides,
    },
    vendor.secretKey,
  );
}

let dir: string;
let node: FloeNode;
let app: ReturnType<typeof createAdminApp>;
const peers = new Map<string, PeerLockState>();

async function call(method: string, path: string, body?: unknown) {
  const res = await app.request(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'floe-admin-locks-'));
  const config = parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
  node = await FloeNode.open({ config, lockCode: 'A', peerLockCodes: () => peers });
  app = createAdminApp(node, { tokenSha256: [hashToken(TOKEN)], bodyBytesMax: 32 * 1024 });
});

afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /lock-codes', () => {
  it('lists which keys this node serves and why not, the members\' lock codes, and two members presenting one code', async () => {
    peers.set('n2', { lockCode: 'B', connected: true });
    peers.set('n3', { lockCode: 'B', connected: true });
    expect((await call('POST', '/licenses', { key: key({ licenseId: 'LIC-SOLO', lockCodes: ['A'] }) })).status).toBe(201);
    expect((await call('POST', '/licenses', { key: key({ licenseId: 'LIC-SITE', lockCodes: ['A', 'B', 'C'] }) })).status).toBe(201);
    const r = await call('GET', '/lock-codes');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      nodeId: 'n1',
      members: [
        { id: 'n1', lockCode: 'A', connected: true, self: true },
        { id: 'n2', lockCode: 'B', connected: true, self: false },
        { id: 'n3', lockCode: 'B', connected: true, self: false },
      ],
      duplicates: [{ code: 'LOCK_CODE_DUPLICATE', lockCode: 'B', members: ['n2', 'n3'] }],
      licenses: [
        { licenseId: 'LIC-SOLO', served: true },
        { licenseId: 'LIC-SITE', served: false, code: 'LICENSE_QUORUM_LOST' },
      ],
    });
    peers.set('n3', { lockCode: 'C', connected: true });
    expect((await call('GET', '/lock-codes')).body).toMatchObject({ duplicates: [], licenses: [{ served: true }, { served: true }] });
  });
});

describe('the license routes after a rehost and a removal', () => {
  it('POST /licenses names the license a key superseded, a second import of the old key is 422 SUPERSEDED, and GET /licenses/retired lists both retirements', async () => {
    expect((await call('POST', '/licenses', { key: key({ licenseId: 'LIC-OLD' }) })).status).toBe(201);
    const rehost = await call('POST', '/licenses', { key: key({ licenseId: 'LIC-NEW', supersedes: 'LIC-OLD' }) });
    expect(rehost).toEqual({ status: 201, body: { licenseId: 'LIC-NEW', features: ['cad'], supersededLicenseId: 'LIC-OLD' } });
    expect(await call('POST', '/licenses', { key: key({ licenseId: 'LIC-OLD' }) })).toMatchObject({ status: 422, body: { error: { code: 'SUPERSEDED' } } });
    expect((await call('DELETE', '/licenses/LIC-SOLO')).status).toBe(200);
    const listed = (await call('GET', '/licenses')).body as { licenseId: string; supersedes: string | null; lockMatch: string }[];
    expect(listed.find((l) => l.licenseId === 'LIC-NEW')).toMatchObject({ supersedes: 'LIC-OLD', lockMatch: 'tolerant' });
    expect((await call('GET', '/licenses/retired')).body).toMatchObject([
      { licenseId: 'LIC-OLD', reason: 'superseded', supersededBy: 'LIC-NEW' },
      { licenseId: 'LIC-SOLO', reason: 'removed' },
    ]);
  });
});
