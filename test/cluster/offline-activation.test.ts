// Offline activation end to end: a three-node cluster with no key center in
// its config, a key center served on loopback that only "the person" talks
// to. `floe license request` writes the signed request file; it is uploaded
// to the key center's API (and, in Chromium, to its portal's upload page);
// the key file it answers is installed with `floe license import --key-file`
// and served on every node, with where it came from. A tampered file, a
// mistyped code, a code activated elsewhere and a key for other lock codes
// are each refused with their own code, and install nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { floe } from '../../cli/cli-harness.test-support.ts';
import { run as license } from '../../cli/license.ts';
import { initKeyCenter, KeyCenter } from '../../keycenter/key-center.ts';
import { startKeyCenterServer } from '../../keycenter/server/key-center-server.ts';
import { deriveLockCode, LICENSE_KEY_FILE_FORMAT } from '../../protocol/index.ts';
import { ADMIN_TOKEN } from '../daemon/test-daemon.test-support.ts';
import { hasChromium, launchChromium } from '../portal/chromium.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { canonicalLockCode, defined } from './site-tools.test-support.ts';

let root: string;
let kc: KeyCenter;
let keyCenter: { url: string; close(): Promise<void> };
let site: InProcessSite;
let tokenFile: string;

/** `floe license SUBCOMMAND` against the leader's admin API. */
async function cli(subcommand: string, ...argv: string[]) {
  const leader = await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 });
  return floe(license, subcommand, '--admin', leader.adminUrl, '--token-file', tokenFile, ...argv);
}

async function installed(): Promise<{ licenseId: string; keyCenterUrl: string | null; authCode: string; activatedVia: string | null; orderNumber: string | null }[]> {
  const r = await site.admin('GET', '/licenses');
  return r.body.data ?? r.body;
}

/** Uploads a request file to the key center's API as a person would with curl. */
async function upload(text: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${keyCenter.url}/api/v1/activation-requests`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  root = mkdtempSync(join(os.tmpdir(), 'floe-offline-'));
  initKeyCenter(join(root, 'kc'));
  kc = await KeyCenter.open(join(root, 'kc'));
  keyCenter = await startKeyCenterServer(kc, { listen: '127.0.0.1:0' });
  tokenFile = join(root, 'admin-token');
  writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  // No keyCenterUrl: this site cannot reach the key center.
  site = await InProcessSite.create({ ids: ['n1', 'n2', 'n3'], dirPrefix: 'floe-offline-site-', debugEnv: 'DEBUG_OFFLINE', config: { vendorPublicKeys: [kc.publicKeyText] } });
  const peers = site.ids.map((_, i) => site.peer(i));
  for (const i of site.ids.keys()) await site.start(i, peers);
  await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: 20_000 });
  await vi.waitFor(() => expect(site.ids.every((id) => site.daemon(id).node.memberLockCodes().every((m) => m.connected && m.lockCode !== undefined)), 'every member to know every lock code').toBe(true), { timeout: 20_000 });
}, 60_000);

afterAll(async () => {
  await site?.close();
  await keyCenter?.close();
  await kc?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('offline activation: floe license request → key center → floe license import', () => {
  it('round trip: the request names the three members, the key file installs and is served on every node, with where it came from', async () => {
    const [e] = await kc.entitle({ product: 'stats', version: '29', model: 'concurrent', seats: 5, orderNumber: 'CO-4711' });
    const requestFile = join(root, 'request.json');
    const r = await cli('request', '--code', e!.authCode.toLowerCase(), '--host-description', 'License servers, air-gapped lab', '--out', requestFile);
    expect(r.exit, r.stderr).toBe(0);
    expect(r.last).toBe(requestFile);
    const text = readFileSync(requestFile, 'utf8');
    const file = JSON.parse(text);
    expect(file.request.authCode).toBe(e!.authCode);
    expect(file.request.members.map((m: { lockCode: string }) => m.lockCode).sort()).toEqual(site.identities.map((i) => canonicalLockCode(i.lockCode)).sort());
    // Nothing reached the key center yet.
    expect(await kc.listKeys()).toEqual([]);

    const answer = await upload(text);
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    expect(answer.body).toMatchObject({ format: LICENSE_KEY_FILE_FORMAT, keyCenterUrl: keyCenter.url.replace(/\/$/, '') });
    // The same file again: the same key.
    expect((await upload(text)).body).toEqual(answer.body);
    const keyFile = join(root, `${answer.body.licenseId}.json`);
    writeFileSync(keyFile, JSON.stringify(answer.body, null, 2));

    const imported = await cli('import', '--key-file', keyFile);
    expect(imported.exit, imported.stderr).toBe(0);
    expect(imported.last).toBe(answer.body.licenseId);
    await vi.waitFor(
      () => {
        for (const id of site.ids) expect(site.daemon(id).node.featureRefusal('stats'), id).toBeUndefined();
      },
      { timeout: 10_000, interval: 50 },
    );
    const lic = (await installed()).find((l) => l.licenseId === answer.body.licenseId);
    expect(lic).toMatchObject({ authCode: e!.authCode, orderNumber: 'CO-4711', keyCenterUrl: answer.body.keyCenterUrl, activatedVia: 'offline', hostDescription: 'License servers, air-gapped lab' });
    // Every node agrees on where it came from (it travelled through the log), once it has applied the install.
    await vi.waitFor(
      () => {
        for (const id of site.ids) {
          expect(site.daemon(id).node.licenses().find((l) => l.licenseId === answer.body.licenseId)?.provenance, id).toEqual({ keyCenterUrl: answer.body.keyCenterUrl, via: 'offline' });
        }
      },
      { timeout: 10_000, interval: 50 },
    );
    const listed = await cli('list');
    expect(listed.stdout).toContain(`code ${e!.authCode}  order CO-4711  from ${answer.body.keyCenterUrl} (offline)`);

    const again = await cli('import', '--key-file', keyFile);
    expect([again.exit, again.stderr]).toEqual([1, expect.stringContaining('ALREADY_ACTIVATED')]);
    expect((await installed()).filter((l) => l.licenseId === answer.body.licenseId)).toHaveLength(1);
  });

  it('the key center refuses an edited request file with REQUEST_SIGNATURE_INVALID and issues nothing', async () => {
    const [e] = await kc.entitle({ product: 'cad', version: '1', model: 'concurrent', seats: 2 });
    const requestFile = join(root, 'cad-request.json');
    expect((await cli('request', '--code', e!.authCode, '--out', requestFile)).exit).toBe(0);
    const file = JSON.parse(readFileSync(requestFile, 'utf8'));
    // Someone swaps a lock code for one of another machine.
    const stranger = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9)).publicKey;
    file.request.members[2].lockCode = deriveLockCode({ machineId: 'elsewhere', macs: [], hostname: 'elsewhere' }, stranger);
    const r = await upload(JSON.stringify(file));
    expect([r.status, r.body.error.code]).toEqual([422, 'REQUEST_SIGNATURE_INVALID']);
    expect((await kc.listKeys()).some((k) => k.authCode === e!.authCode)).toBe(false);
  });

  it('a mistyped code is refused with AUTH_CODE_TYPO before any file is written', async () => {
    const [e] = await kc.entitle({ product: 'cam', version: '1', model: 'concurrent', seats: 2 });
    const code = e!.authCode;
    const typo = code.slice(0, 1) + (code[1] === 'X' ? 'Y' : 'X') + code.slice(2);
    const out = join(root, 'typo.json');
    const r = await cli('request', '--code', typo, '--out', out);
    expect([r.exit, r.stderr]).toEqual([1, expect.stringContaining('AUTH_CODE_TYPO')]);
    expect(existsSync(out)).toBe(false);
    const missing = await cli('request', '--code', code);
    expect([missing.exit, missing.stderr]).toEqual([2, expect.stringContaining('--out')]);
  });

  it('a code already activated for other servers answers ALREADY_ACTIVATED at the key center', async () => {
    const [e] = await kc.entitle({ product: 'sim', version: '3', model: 'concurrent', seats: 4 });
    const others = [1, 2, 3].map((n) => deriveLockCode({ machineId: `m${n}`, macs: [], hostname: `h${n}` }, nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(20 + n)).publicKey));
    await kc.activate({ authCode: e!.authCode, lockCodes: others });
    const requestFile = join(root, 'sim-request.json');
    expect((await cli('request', '--code', e!.authCode, '--out', requestFile)).exit).toBe(0);
    const r = await upload(readFileSync(requestFile, 'utf8'));
    expect([r.status, r.body.error.code]).toEqual([409, 'ALREADY_ACTIVATED']);
  });

  it('a key file whose key names other lock codes than the members is refused with LOCK_CODE_MISMATCH and installs nothing', async () => {
    const [e] = await kc.entitle({ product: 'viz', version: '2', model: 'concurrent', seats: 3 });
    const stranger = deriveLockCode({ machineId: 'm9', macs: [], hostname: 'h9' }, nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(99)).publicKey);
    const key = await kc.activate({ authCode: e!.authCode, lockCodes: [site.identities[0]!.lockCode, site.identities[1]!.lockCode, stranger] });
    const keyFile = join(root, 'mismatch.json');
    writeFileSync(keyFile, JSON.stringify({ format: LICENSE_KEY_FILE_FORMAT, licenseId: key.licenseId, key: key.keyText, keyCenterUrl: keyCenter.url }));
    const before = await installed();
    const r = await cli('import', '--key-file', keyFile);
    expect([r.exit, r.stderr]).toEqual([1, expect.stringContaining('LOCK_CODE_MISMATCH')]);
    expect(await installed()).toEqual(before);
  });

  it.runIf(hasChromium())('the portal takes the request file as an upload and answers the key file as a download, which installs', async () => {
    const [e] = await kc.entitle({ product: 'flow', version: '7', model: 'concurrent', seats: 6, orderNumber: 'CO-5000' });
    const requestFile = join(root, 'flow-request.json');
    expect((await cli('request', '--code', e!.authCode, '--out', requestFile)).exit).toBe(0);
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
      await page.goto(`${keyCenter.url}/activate/request-file`);
      await page.getByLabel('Request file').setInputFiles(requestFile);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Get the key file' }).click()]);
      const keyFile = join(root, download.suggestedFilename());
      expect(download.suggestedFilename()).toMatch(/^LIC-.*\.json$/);
      await download.saveAs(keyFile);
      const imported = await cli('import', '--key-file', keyFile);
      expect(imported.exit, imported.stderr).toBe(0);
      const lic = (await installed()).find((l) => l.licenseId === imported.last);
      expect(lic).toMatchObject({ authCode: e!.authCode, orderNumber: 'CO-5000', activatedVia: 'offline' });
      await vi.waitFor(
        () => {
          for (const id of site.ids) expect(site.daemon(id).node.featureRefusal('flow'), id).toBeUndefined();
        },
        { timeout: 10_000, interval: 50 },
      );

      // An edited file: the form says why, on its field.
      const edited = JSON.parse(readFileSync(requestFile, 'utf8'));
      edited.request.hostDescription = 'edited';
      const editedFile = join(root, 'flow-edited.json');
      writeFileSync(editedFile, JSON.stringify(edited));
      await page.goto(`${keyCenter.url}/activate/request-file`);
      await page.getByLabel('Request file').setInputFiles(editedFile);
      await page.getByRole('button', { name: 'Get the key file' }).click();
      await page.getByText('REQUEST_SIGNATURE_INVALID').waitFor();
      await page.screenshot({ path: join(root, 'portal-request-file-refused.png'), fullPage: true });
      if (process.env['FLOE_SCREENSHOT_DIR'] !== undefined) await page.screenshot({ path: join(process.env['FLOE_SCREENSHOT_DIR'], 'portal-request-file-refused.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
