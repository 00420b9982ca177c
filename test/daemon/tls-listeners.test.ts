// TLS on a node's listeners (issue 17): clients on wss://, the admin API on
// https://, a client without the site CA refused, a certificate reload that
// drops no session, and a plain non-loopback bind refused at start.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect, type FloeClient } from '../../client/index.ts';
import { writeTestSiteTls } from '../../daemon/tls/site-pki.test-support.ts';
import { run as runServe } from '../../cli/serve.ts';
import { ADMIN_TOKEN, makeLicenseKey, startTestDaemon, tempDir, type TestDaemon } from './test-daemon.test-support.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** GET over https trusting only `ca`; resolves with status and body text. */
function httpsText(url: string, ca: string, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: token !== undefined ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET over https trusting only `ca`; resolves with status and JSON body. */
async function httpsJson(url: string, ca: string, token?: string): Promise<{ status: number; body: any }> {
  const r = await httpsText(url, ca, token);
  return { status: r.status, body: r.text === '' ? undefined : JSON.parse(r.text) };
}

/** The serial number of the certificate a TLS server at `url` shows now. */
function servedSerial(url: string, ca: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: u.hostname, port: Number(u.port), ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function tlsNode(): Promise<{ daemon: TestDaemon; site: Awaited<ReturnType<typeof writeTestSiteTls>>; dir: string }> {
  const dir = tempDir('floe-tls-');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const site = await writeTestSiteTls(dir, ['n1']);
  const licenseFile = join(dir, 'demo.license');
  writeFileSync(licenseFile, makeLicenseKey([loadNodeIdentity(dataDir).lockCode], { seats: 3 }));
  const daemon = await startTestDaemon({ tls: site.nodes['n1'], licenseFiles: [licenseFile], leaseTtlMs: 30_000, heartbeatMs: 1000 }, dataDir);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => daemon.close());
  return { daemon, site, dir };
}

async function client(daemon: TestDaemon, options: { ca?: string; caFile?: string } = {}): Promise<FloeClient> {
  const c = await connect({ servers: [daemon.clientUrl], user: 'alice', host: 'ws-1', app: 'cad', reconnectAttemptsMax: 1, connectTimeoutMs: 3000, ...options });
  cleanups.push(() => c.close());
  return c;
}

describe('TLS listeners', () => {
  it('a node with [tls] serves clients on wss:// and the admin API on https://, showing its certificate expiry', async () => {
    const { daemon, site } = await tlsNode();
    expect(daemon.clientUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ws$/);
    expect(daemon.adminUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const c = await client(daemon, { caFile: site.caFile });
    await vi.waitFor(async () => expect((await c.checkout('demo')).feature).toBe('demo'), { timeout: 10_000, interval: 100 });
    const health = await httpsJson(`${daemon.adminUrl}/api/v1/health`, site.ca.certPem);
    expect(health.status).toBe(200);
    expect(health.body.tls).toMatchObject({ nodeIds: ['n1'], subject: 'CN=n1' });
    expect(health.body.tls.daysLeft).toBeGreaterThan(390);
    const pools = await httpsJson(`${daemon.adminUrl}/api/v1/pools`, site.ca.certPem, ADMIN_TOKEN);
    expect(pools.body).toMatchObject([{ feature: 'demo', seatsInUse: 1 }]);
    const metrics = await httpsText(`${daemon.adminUrl}/metrics`, site.ca.certPem, ADMIN_TOKEN);
    const notAfterS = Date.parse(health.body.tls.notAfter) / 1000;
    expect(metrics.text).toContain(`floe_tls_certificate_expiry_timestamp_seconds{certificate="node"} ${notAfterS}`);
    expect(metrics.text).toMatch(/floe_tls_certificate_expiry_timestamp_seconds\{certificate="ca"\} \d+/);
  });

  it('a client that does not trust the site CA is refused, and the error says the certificate was not trusted', async () => {
    const { daemon } = await tlsNode();
    const error = await client(daemon).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; cause?: unknown },
    );
    expect(error?.code).toBe('SERVERS_UNREACHABLE');
    expect((error?.cause as Error | undefined)?.message).toMatch(/^UNAVAILABLE: cannot connect to wss:\/\/127\.0\.0\.1:\d+\/ws: .*certificate/);
    // What the application shows says TLS was the cause, and the fix.
    expect(error?.message).toMatch(/^SERVERS_UNREACHABLE: no server answered in 1 attempt; the last: cannot connect to wss:\/\/127\.0\.0\.1:\d+\/ws: .*certificate.*: TLS: the server's certificate is not signed by a CA this client trusts; give the site CA \(ca\.crt of floe tls init\) as ca or caFile$/);
    // An admin client without the CA is refused too: the token never leaves it.
    await expect(fetch(`${daemon.adminUrl}/api/v1/health`)).rejects.toThrow();
  });

  it('a first connect whose every server shows an untrusted certificate fails at once, not after every retry', async () => {
    const { daemon } = await tlsNode();
    // The same node under two names: two servers, both refusing this client's trust.
    const servers = [daemon.clientUrl, daemon.clientUrl.replace('127.0.0.1', 'localhost')];
    const error = await connect({ servers, user: 'alice', host: 'ws-1', app: 'cad', reconnectAttemptsMax: 50, connectTimeoutMs: 3000 }).then(
      (c) => { cleanups.push(() => c.close()); return undefined; },
      (e: unknown) => e as Error & { code?: string },
    );
    expect(error?.code).toBe('SERVERS_UNREACHABLE');
    // One dial per server: a certificate this client does not trust will not change by retrying.
    expect(error?.message).toMatch(/^SERVERS_UNREACHABLE: no server answered in 2 attempts; the last: .*TLS: the server's certificate is not signed by a CA this client trusts/);
  });

  it('a client given another site\'s CA is refused: ca pins the site CA, whatever else the machine trusts', async () => {
    const { daemon, dir } = await tlsNode();
    const otherDir = join(dir, 'other-site');
    mkdirSync(otherDir);
    const other = await writeTestSiteTls(otherDir, ['n1']);
    const error = await client(daemon, { caFile: other.caFile }).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; cause?: unknown },
    );
    expect(error?.code).toBe('SERVERS_UNREACHABLE');
    expect((error?.cause as Error | undefined)?.message).toMatch(/^UNAVAILABLE: cannot connect to wss:\/\/127\.0\.0\.1:\d+\/ws: .*certificate/);
  });

  it('reloading a renewed certificate drops no session, and new connections get the new certificate', async () => {
    const { daemon, site } = await tlsNode();
    const c = await client(daemon, { ca: site.ca.certPem });
    const lease = await vi.waitFor(() => c.checkout('demo'), { timeout: 10_000, interval: 100 });
    const disconnects: unknown[] = [];
    c.on('disconnected', (e) => disconnects.push(e));
    const before = await servedSerial(daemon.clientUrl, site.ca.certPem);
    const renewed = await site.renew('n1');
    const status = daemon.reloadTls();
    expect(status?.loadedAtMs).toBeGreaterThan(0);
    const after = await servedSerial(daemon.clientUrl, site.ca.certPem);
    expect(after).not.toBe(before);
    expect(await servedSerial(daemon.adminUrl, site.ca.certPem)).toBe(after);
    expect(renewed.certPem).toContain('BEGIN CERTIFICATE');
    // The open session goes on over its connection: a checkin and a second checkout answer at once.
    await c.checkin(lease);
    await c.checkout('demo');
    expect(disconnects).toEqual([]);
    expect(c.connected).toBe(true);
  });

  it('a reload with a key that is not the certificate\'s is refused and the node keeps its certificate', async () => {
    const { daemon, site } = await tlsNode();
    const before = await servedSerial(daemon.clientUrl, site.ca.certPem);
    const other = await site.renew('n2');
    writeFileSync(site.nodes['n1']!.keyFile, other.keyPem);
    expect(() => daemon.reloadTls()).toThrow(/is not the key of the certificate/);
    expect(await servedSerial(daemon.clientUrl, site.ca.certPem)).toBe(before);
  });

  it('floe serve refuses a non-loopback bind without TLS, with a clear error', async () => {
    const dir = tempDir('floe-plain-');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'n1.toml');
    writeFileSync(config, `dataDir = "data"\nclientListen = "0.0.0.0:0"\nadminListen = "127.0.0.1:0"\n`);
    let stderr = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    try {
      expect(await runServe(['--config', config])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(stderr).toMatch(/^CONFIG_INVALID: clientListen: 0\.0\.0\.0:0 is not a loopback address, and without \[tls\] .* insecure = true/);
  });
});
