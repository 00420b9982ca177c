// Helpers of the daemon's end-to-end tests: a vendor key and license keys, a
// real daemon on loopback (ephemeral ports, temp data dir), and a minimal
// WebSocket client (the SDK is tested on its own; these tests speak the wire).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import WebSocket from 'ws';
import { createAdminApp, hashToken } from '../../admin/index.ts';
import { parseConfig, startDaemon, type Daemon, type FloeConfigInput } from '../../daemon/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { formatVendorPublicKey, signLicenseKey, vendorKeyIdOf, type LicensePayload } from '../../protocol/index.ts';

export const vendor = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(11));
export const VENDOR_PUBLIC_KEY = formatVendorPublicKey(vendor.publicKey);
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** A license key signed by the test vendor. */
export function makeLicenseKey(lockCodes: string[], overrides: Partial<LicensePayload> = {}): string {
  return signLicenseKey(
    {
      v: 1,
      licenseId: 'LIC-1',
      authCode: 'AUTH-1',
      vendorKeyId: vendorKeyIdOf(vendor.publicKey),
      product: 'demo',
      version: '1',
      model: 'concurrent',
      seats: 2,
      components: [],
      issuedAt: 0,
      notBefore: 0,
      lockCodes,
      lingerSeconds: 0,
      hostsPerUserMax: 1,
      ...overrides,
    },
    vendor.secretKey,
  );
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(prefix = 'floe-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestDaemon extends Daemon {
  readonly dataDir: string;
  readonly lockCode: string;
  /** Installs a license with `seats` seats of feature "demo" through the admin API. */
  installDemoLicense(seats: number, licenseId?: string): Promise<void>;
  admin(method: string, path: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
  /** Closes the daemon and removes its data dir. */
  destroy(): Promise<void>;
}

/** Starts a real daemon on 127.0.0.1 with ephemeral ports. */
export async function startTestDaemon(overrides: FloeConfigInput = {}, dataDir = tempDir()): Promise<TestDaemon> {
  const lockCode = loadNodeIdentity(dataDir).lockCode;
  const config = parseConfig({
    dataDir,
    clientListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    vendorPublicKeys: [VENDOR_PUBLIC_KEY],
    adminTokenSha256: [hashToken(ADMIN_TOKEN)],
    leaseTtlMs: 2000,
    heartbeatMs: 500,
    renewBatchMs: 20,
    ...overrides,
  });
  const daemon = await startDaemon(config, {
    adminApp: (node, d) => createAdminApp(node, { tokenSha256: config.adminTokenSha256, bodyBytesMax: config.limits.adminBodyBytesMax, tlsStatus: d.tlsStatus }),
  });
  const admin = async (method: string, path: string, body?: unknown, token: string | null = ADMIN_TOKEN) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token !== null) headers['authorization'] = `Bearer ${token}`;
    const res = await fetch(`${daemon.adminUrl}/api/v1${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  return {
    ...daemon,
    dataDir,
    lockCode,
    admin,
    async installDemoLicense(seats: number, licenseId = 'LIC-1') {
      const r = await admin('POST', '/licenses', { key: makeLicenseKey([lockCode], { seats, licenseId }) });
      if (r.status !== 201) throw new Error(`license import failed: ${JSON.stringify(r.body)}`);
    },
    async destroy() {
      await daemon.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Frame = Record<string, any>;

/** A bare protocol client: numbered requests, replies by id, pushes collected. */
export class WireClient {
  readonly pushes: Frame[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, (f: Frame) => void>();
  private readonly pushWaiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  /** Replies with id 0 (frames the server could not read an id from). */
  readonly orphanReplies: Frame[] = [];
  closeCode: number | undefined;
  private readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Frame;
      if (typeof f['id'] === 'number') {
        const w = this.waiting.get(f['id']);
        if (w !== undefined) {
          this.waiting.delete(f['id']);
          w(f);
        } else this.orphanReplies.push(f);
        return;
      }
      this.pushes.push(f);
      for (let i = 0; i < this.pushWaiters.length; i++) {
        const pw = this.pushWaiters[i]!;
        if (pw.pred(f)) {
          this.pushWaiters.splice(i, 1);
          pw.resolve(f);
          break;
        }
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code) => {
      this.closeCode = code;
      resolve(code);
    }));
  }

  /** `localAddress`: the source address (any of 127/8 on loopback), so a test can play several hosts. */
  static async connect(url: string, localAddress?: string): Promise<WireClient> {
    const ws = new WebSocket(url, localAddress !== undefined ? { localAddress } : {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new WireClient(ws);
  }

  /** Sends a request (an `id` is added unless given) and resolves with its reply. */
  request(frame: Frame): Promise<Frame> {
    const id = typeof frame['id'] === 'number' ? (frame['id'] as number) : this.nextId++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(frame)}`)), 10_000);
      this.waiting.set(id, (f) => {
        clearTimeout(t);
        resolve(f);
      });
      this.ws.send(JSON.stringify({ id, ...frame }));
    });
  }

  /** Sends raw text or bytes. */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  hello(clientId: string, extra: Frame = {}): Promise<Frame> {
    return this.request({ type: 'hello', protocol: 1, clientId, user: 'alice', host: 'ws-17', app: 'test', ...extra });
  }

  checkout(requestId: string, extra: Frame = {}): Promise<Frame> {
    return this.request({ type: 'checkout', requestId, feature: 'demo', ...extra });
  }

  checkin(requestId: string, leaseId: string): Promise<Frame> {
    return this.request({ type: 'checkin', requestId, leaseId });
  }

  /** Resolves with the first push (already received or coming) that matches. */
  waitForPush(pred: (f: Frame) => boolean, timeoutMs = 10_000): Promise<Frame> {
    const seen = this.pushes.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('push not received')), timeoutMs);
      this.pushWaiters.push({
        pred,
        resolve: (f) => {
          clearTimeout(t);
          resolve(f);
        },
      });
    });
  }

  /** Resolves with the close code once the server closes the socket. */
  whenClosed(): Promise<number> {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
