// An admin app over a real single FloeNode in a temp dir, called through
// app.request() (no socket): what the admin route tests share.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { parseConfig } from '../daemon/config.ts';
import { FloeNode } from '../daemon/node/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../protocol/index.ts';
import { createAdminApp } from './admin-app.ts';
import { hashToken } from './bearer-auth.ts';

const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(3));
/** The config file's (admin) token of the fixture. */
export const ADMIN_TOKEN = 'admin-fixture-token';
const LOCK = 'LOCKCODE-OF-THIS-NODE';

/** A signed key for the fixture's node (feature `cad`, 3 seats unless overridden). */
export function licenseKey(overrides: Partial<LicensePayload> = {}): string {
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

/** The answer of one call: status and parsed JSON body. */
export interface CallAnswer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/** A node, its admin app, and a caller. */
export interface AdminFixture {
  readonly node: FloeNode;
  readonly app: ReturnType<typeof createAdminApp>;
  /** Calls `method /api/v1{path}` with `token` (ADMIN_TOKEN by default; null: none). */
  call(method: string, path: string, body?: unknown, token?: string | null): Promise<CallAnswer>;
  /** Opens a session and checks one seat of `feature` out; answers the lease id. */
  checkout(feature: string, user?: string): Promise<string>;
  close(): Promise<void>;
}

/** Opens a fresh node in a temp dir with its admin app. */
export async function openAdminFixture(): Promise<AdminFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'floe-admin-'));
  const config = parseConfig({ dataDir: dir, vendorPublicKeys: [formatVendorPublicKey(vendor.publicKey)] });
  const node = await FloeNode.open({ config, lockCode: LOCK });
  const app = createAdminApp(node, { tokenSha256: [hashToken(ADMIN_TOKEN)], bodyBytesMax: 32 * 1024 });
  let sessions = 0;
  return {
    node,
    app,
    async call(method, path, body, token = ADMIN_TOKEN) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token !== null) headers['authorization'] = `Bearer ${token}`;
      const res = await app.request(`/api/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: await res.json() };
    },
    async checkout(feature, user = 'bob') {
      const sessionId = `sess-${++sessions}`;
      await node.propose({ type: 'session-open', sessionId, clientId: `client-${sessions}`, user, host: 'pc-9', app: 'cad', sessionTtlMs: 60_000 });
      const r = await node.propose({ type: 'checkout', sessionId, requestId: `req-${sessions}`, feature, count: 1, wait: false, leaseTtlMs: 60_000, waitMs: 0 });
      if (!r.reply.ok || r.reply.type !== 'granted') throw new Error(`checkout failed: ${JSON.stringify(r.reply)}`);
      return r.reply.lease.leaseId;
    },
    async close() {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
