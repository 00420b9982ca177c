// Online activation end to end: a key center served on loopback, a three-node
// cluster on loopback, and `floe license activate` as a sysadmin types it.
// The key names the three members' lock codes and is served on every node;
// every refusal (the same code again, a mistyped code, a key center that is
// stopped or never answers, a key center of another vendor, a member down)
// is its own code, and installs nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { floe } from '../../cli/cli-harness.test-support.ts';
import { run as license } from '../../cli/license.ts';
import { initKeyCenter, KeyCenter } from '../../keycenter/key-center.ts';
import { startKeyCenterServer } from '../../keycenter/server/key-center-server.ts';
import { ADMIN_TOKEN } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { canonicalLockCode, defined } from './site-tools.test-support.ts';

// Long enough for the in-process key center to answer on a loaded machine (at 1000 ms a
// busy test worker turned real activations into KEY_CENTER_UNREACHABLE), short enough
// for the silent key center's case to end soon.
const KEY_CENTER_TIMEOUT_MS = 4000;

let root: string;
let kc: KeyCenter;
let otherKc: KeyCenter;
let keyCenter: { url: string; close(): Promise<void> };
let otherVendor: { url: string; close(): Promise<void> };
let silent: Server;
let silentUrl: string;
let site: InProcessSite;
let tokenFile: string;

/** `floe license activate` against the leader's admin API. */
async function activate(...argv: string[]) {
  const leader = await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 });
  return floe(license, 'activate', '--admin', leader.adminUrl, '--token-file', tokenFile, ...argv);
}

async function installed(): Promise<string[]> {
  const r = await site.admin('GET', '/licenses');
  return (r.body.data ?? r.body).map((l: { licenseId: string }) => l.licenseId);
}

beforeAll(async () => {
  root = mkdtempSync(join(os.tmpdir(), 'floe-activation-'));
  initKeyCenter(join(root, 'kc'));
  initKeyCenter(join(root, 'other-kc'));
  kc = await KeyCenter.open(join(root, 'kc'));
  otherKc = await KeyCenter.open(join(root, 'other-kc'));
  keyCenter = await startKeyCenterServer(kc, { listen: '127.0.0.1:0' });
  otherVendor = await startKeyCenterServer(otherKc, { listen: '127.0.0.1:0' });
  // A key center that accepts the connection and never answers.
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}/`;
  tokenFile = join(root, 'admin-token');
  writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  site = await InProcessSite.create({
    ids: ['n1', 'n2', 'n3'],
    dirPrefix: 'floe-activation-site-',
    debugEnv: 'DEBUG_ACTIVATION',
    config: { vendorPublicKeys: [kc.publicKeyText], keyCenterUrl: keyCenter.url, keyCenterTimeoutMs: KEY_CENTER_TIMEOUT_MS },
  });
  const peers = site.ids.map((_, i) => site.peer(i));
  for (const i of site.ids.keys()) await site.start(i, peers);
  await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 });
  await vi.waitFor(() => expect(site.ids.every((id) => site.daemon(id).node.memberLockCodes().every((m) => m.connected && m.lockCode !== undefined)), 'every member to know every lock code').toBe(true), { timeout: 20_000 });
}, 60_000);

afterAll(async () => {
  await site?.close();
  await keyCenter?.close();
  await otherVendor?.close();
  silent?.closeAllConnections();
  await new Promise((resolve) => silent?.close(resolve));
  await kc?.close();
  await otherKc?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('floe license activate', () => {
  it('installs a key for the three members from the code alone, served on every node; the same code again is ALREADY_ACTIVATED', async () => {
    const [e] = await kc.entitle({ product: 'stats', version: '29', model: 'concurrent', seats: 5 });
    const r = await activate('--code', e!.authCode, '--host-description', 'License servers, test site');
    expect(r.exit, r.stderr).toBe(0);
    expect(r.last).toMatch(/^LIC-/);
    const licenseId = r.last;
    const listed = (await site.admin('GET', '/licenses')).body;
    const lic = (listed.data ?? listed).find((l: { licenseId: string }) => l.licenseId === licenseId);
    expect(lic.lockCodes.map(canonicalLockCode).sort()).toEqual(site.identities.map((i) => canonicalLockCode(i.lockCode)).sort());
    expect(lic).toMatchObject({ seats: 5, hostDescription: 'License servers, test site' });
    await vi.waitFor(
      () => {
        for (const id of site.ids) expect(site.daemon(id).node.featureRefusal('stats'), id).toBeUndefined();
      },
      { timeout: 10_000, interval: 50 },
    );
    // The key center records the activation as the server's lock codes.
    expect((await kc.listKeys()).map((k) => k.licenseId)).toEqual([licenseId]);

    const again = await activate('--code', e!.authCode);
    expect([again.exit, again.stderr]).toEqual([1, expect.stringContaining('ALREADY_ACTIVATED')]);
    expect(again.stderr).toContain(licenseId);
    expect(await installed()).toEqual([licenseId]);
  });

  it('refuses a mistyped code with AUTH_CODE_TYPO; no --code is a usage error', async () => {
    const [e] = await kc.entitle({ product: 'cad', version: '1', model: 'concurrent', seats: 2 });
    const code = e!.authCode;
    const typo = code.slice(0, 1) + (code[1] === 'X' ? 'Y' : 'X') + code.slice(2);
    const before = await installed();
    const r = await activate('--code', typo);
    expect([r.exit, r.stderr]).toEqual([1, expect.stringContaining('AUTH_CODE_TYPO')]);
    const missing = await activate();
    expect([missing.exit, missing.stderr]).toEqual([2, expect.stringContaining('--code')]);
    expect(await installed()).toEqual(before);
  });

  it('answers KEY_CENTER_UNREACHABLE naming the URL when the key center is stopped or never answers within the timeout', async () => {
    const [e] = await kc.entitle({ product: 'cam', version: '1', model: 'concurrent', seats: 2 });
    const before = await installed();
    const slow = await activate('--code', e!.authCode, '--key-center', silentUrl);
    expect([slow.exit, slow.stderr]).toEqual([1, expect.stringContaining('KEY_CENTER_UNREACHABLE')]);
    expect(slow.stderr).toContain(silentUrl);
    expect(slow.stderr).toContain(`no answer within ${KEY_CENTER_TIMEOUT_MS} ms`);

    const stopped = await startKeyCenterServer(kc, { listen: '127.0.0.1:0' });
    await stopped.close();
    const down = await activate('--code', e!.authCode, '--key-center', stopped.url);
    expect([down.exit, down.stderr]).toEqual([1, expect.stringContaining('KEY_CENTER_UNREACHABLE')]);
    expect(down.stderr).toContain('ECONNREFUSED');
    expect(await installed()).toEqual(before);
    // The code was never used: the real key center still activates it.
    expect((await kc.listKeys()).some((k) => k.authCode === e!.authCode)).toBe(false);
  });

  it('a retry after the answer was lost installs the key the key center issued the first time', async () => {
    const [e] = await kc.entitle({ product: 'sim', version: '3', model: 'concurrent', seats: 4 });
    // The key center activated the code for this cluster, but its answer never reached the node.
    const lost = await kc.activate({ authCode: e!.authCode, lockCodes: site.identities.map((i) => i.lockCode) });
    const r = await activate('--code', e!.authCode);
    expect(r.exit, r.stderr).toBe(0);
    expect(r.last).toBe(lost.licenseId);
    expect(await installed()).toContain(lost.licenseId);
  });

  it('a retry of floe license activate whose first answer was lost (503 UNAVAILABLE after the install) prints the installed license, not ALREADY_ACTIVATED', async () => {
    const [e] = await kc.entitle({ product: 'lost', version: '1', model: 'concurrent', seats: 3 });
    const leader = await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 });
    // In front of the admin API: the first activation reaches the cluster and is installed, but its answer
    // is replaced by the 503 a node sends when the leader changes under a request; the retry passes through.
    const asked: unknown[] = [];
    const proxy = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const body = Buffer.concat(chunks).toString('utf8');
        if (req.url?.endsWith('/licenses/activate')) asked.push(JSON.parse(body));
        const answer = await fetch(`${leader.adminUrl}${req.url}`, { method: req.method ?? 'GET', headers: { authorization: req.headers.authorization ?? '', 'content-type': 'application/json' }, ...(req.method === 'GET' ? {} : { body }) });
        const text = await answer.text();
        if (req.url?.endsWith('/licenses/activate') && asked.length === 1) {
          res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'the leader changed; retry' } }));
          return;
        }
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      })();
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
      const r = await floe(license, 'activate', '--admin', proxyUrl, '--token-file', tokenFile, '--code', e!.authCode);
      expect(r.exit, r.stderr).toBe(0);
      const issued = (await kc.listKeys()).filter((k) => k.authCode === e!.authCode);
      expect(issued).toHaveLength(1);
      expect(r.last).toBe(issued[0]!.licenseId);
      expect(r.stdout).toContain(`installed ${issued[0]!.licenseId}: pools lost`);
      expect(asked).toHaveLength(2);
      expect((asked[0] as { requestId: string }).requestId).toBe((asked[1] as { requestId: string }).requestId);
      expect(await installed()).toContain(issued[0]!.licenseId);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
    // Another command (another request) for the same code is still told the code is used.
    const again = await activate('--code', e!.authCode);
    expect([again.exit, again.stderr]).toEqual([1, expect.stringContaining('ALREADY_ACTIVATED')]);
  });

  it("refuses a key another vendor's key center signs with KEY_CENTER_ANSWER_INVALID, and installs nothing", async () => {
    const [e] = await otherKc.entitle({ product: 'stats', version: '29', model: 'concurrent', seats: 50 });
    const before = await installed();
    const r = await activate('--code', e!.authCode, '--key-center', otherVendor.url);
    expect([r.exit, r.stderr]).toEqual([1, expect.stringContaining('KEY_CENTER_ANSWER_INVALID')]);
    expect(await installed()).toEqual(before);
  });

  it('answers CLUSTER_INCOMPLETE naming a member that is down, and asks the key center nothing', async () => {
    const leaderId = (await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 })).node.config.nodeId;
    const down = site.ids.find((id) => id !== leaderId)!;
    await site.stop(down);
    await vi.waitFor(() => expect(site.leader()?.node.memberLockCodes().some((m) => m.id === down && !m.connected), `the leader to see ${down} gone`).toBe(true), { timeout: 20_000 });
    const [e] = await kc.entitle({ product: 'cad', version: '2', model: 'concurrent', seats: 2 });
    const r = await activate('--code', e!.authCode);
    expect([r.exit, r.stderr]).toEqual([1, expect.stringContaining('CLUSTER_INCOMPLETE')]);
    expect(r.stderr).toContain(down);
    expect((await kc.listKeys()).some((k) => k.authCode === e!.authCode)).toBe(false);
  });
});
