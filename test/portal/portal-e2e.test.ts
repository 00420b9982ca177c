// The self-service portal end to end, in Debian's Chromium: vendor staff
// create an account and an order through the API; the contact's welcome mail
// arrives over SMTP; the contact sets a password, signs in, generates a code,
// activates it on the lock codes of three servers (from `floe lockcode`),
// downloads the key; `floe license check` accepts it on each of the three;
// the by-host view lists the host.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { floe } from '../../cli/cli-harness.test-support.ts';
import { run as keycenterCli } from '../../cli/keycenter.ts';
import { run as license } from '../../cli/license.ts';
import { run as lockcode } from '../../cli/lockcode.ts';
import { KeyCenter } from '../../keycenter/index.ts';
import { DEFAULT_CONFIG } from '../../keycenter/key-center-config.ts';
import { startSmtpServer, type TestSmtpServer } from '../../keycenter/mail/smtp-server.test-support.ts';
import { startKeyCenterServer, type RunningKeyCenter } from '../../keycenter/server/key-center-server.ts';
import { hasChromium, launchChromium } from './chromium.test-support.ts';

const PASSWORD = 'correct horse battery staple';

if (!hasChromium()) process.stderr.write('portal-e2e: skipped, /usr/bin/chromium is missing (apt-get install chromium; .ci/run installs it)\n');

describe.runIf(hasChromium())('the key center portal in a browser', () => {
  let root: string;
  let smtp: TestSmtpServer;
  let kc: KeyCenter;
  let server: RunningKeyCenter;
  let browser: Browser;
  let vendorKey: string;

  beforeAll(async () => {
    root = mkdtempSync(join(os.tmpdir(), 'floe-portal-e2e-'));
    const dir = join(root, 'kc');
    vendorKey = (await floe(keycenterCli, 'init', '--dir', dir)).last;
    const staff = await floe(keycenterCli, 'staff', 'add', '--dir', dir, '--name', 'ann');
    smtp = await startSmtpServer();
    kc = await KeyCenter.open(dir, { config: { ...DEFAULT_CONFIG, vendorName: 'Acme Key Center', mail: { smtpUrl: smtp.url, from: 'keys@acme.example' } } });
    server = await startKeyCenterServer(kc, { listen: '127.0.0.1:0' });
    // The links in mails point at this server, whose port is only known now.
    (kc.ctx.config as { publicUrl: string }).publicUrl = server.url;
    browser = await launchChromium();
    const vendor = (path: string, body: unknown) =>
      fetch(`${server.url}/api/v1/vendor${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${staff.last}` }, body: JSON.stringify(body) });
    expect((await vendor('/accounts', { siteNumber: '4711-0032', companyName: 'Contoso Research' })).status).toBe(201);
    const order = await vendor('/accounts/4711-0032/orders', {
      customerOrderNumber: 'CO-4711',
      purchaseOrderNumber: 'PO-88',
      contacts: [{ email: 'ada@contoso.example', name: 'Ada Lovelace' }],
      lines: [{ product: 'stats', version: '29', model: 'concurrent', quantity: 20 }],
    });
    expect(order.status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await kc?.close();
    await smtp?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('welcome mail → set password → sign in → generate → activate on three lock codes → download → license check on each → by host', async () => {
    await vi.waitFor(() => expect(smtp.received.some((m) => m.text.includes('Subject: Welcome'))).toBe(true), { timeout: 15_000, interval: 100 });
    const welcome = smtp.received.find((m) => m.text.includes('Subject: Welcome'))!;
    expect(welcome.to).toEqual(['ada@contoso.example']);
    const link = new RegExp(`${server.url}/set-password/[A-Za-z0-9_-]{43}`).exec(welcome.text)?.[0];
    expect(link).toBeDefined();

    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(link!);
    await page.getByLabel('New password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Repeat the new password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('Your password is set.').waitFor();

    await page.getByLabel('E-mail address').fill('ada@contoso.example');
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/codes`);
    // The session cookie is Secure and HTTP-only, and Chromium keeps it on http://127.0.0.1.
    const cookie = (await context.cookies()).find((c) => c.name === 'floe_kc_session');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });

    await page.getByRole('link', { name: 'Generate codes' }).click();
    await page.getByLabel('Seats').fill('20');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Comment (optional)').fill('production cluster');
    await page.getByRole('button', { name: 'Create authorization codes' }).click();
    const code = (await page.locator('.big-code').first().textContent())!.trim();
    expect(code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);

    const locks: string[] = [];
    for (const n of ['n1', 'n2', 'n3']) locks.push((await floe(lockcode, '--data-dir', join(root, n))).last);
    await page.getByRole('link', { name: 'Activate' }).first().click();
    await page.getByRole('link', { name: /Redundant license/ }).click();
    await page.getByLabel('Lock code of server 1').fill(locks[0]!);
    await page.getByLabel('Lock code of server 2').fill(locks[1]!.toLowerCase().replaceAll('-', ' '));
    // A typo is caught on its field as soon as the field is left.
    const typo = `${locks[2]!.slice(0, 4)}${locks[2]![4] === 'X' ? 'Y' : 'X'}${locks[2]!.slice(5)}`;
    await page.getByLabel('Lock code of server 3').fill(typo);
    await page.getByLabel('Host description (optional)').click();
    await page.locator('#f-lockCode2-error').getByText('LOCK_CODE_TYPO').waitFor();
    await page.getByLabel('Lock code of server 3').fill(locks[2]!);
    await page.getByLabel('Host description (optional)').fill('License servers, Minneapolis data center');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('Confirm the activation').waitFor();
    await page.getByRole('button', { name: 'Activate' }).click();
    await page.waitForURL(/\/keys\/LIC-[0-9A-Z-]+\?issued=1$/);
    const licenseId = /\/keys\/(LIC-[0-9A-Z-]+)/.exec(page.url())![1]!;

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download key file' }).click()]);
    expect(download.suggestedFilename()).toBe(`${licenseId}.license`);
    const keyFile = join(root, download.suggestedFilename());
    await download.saveAs(keyFile);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^FLOE1\./);
    for (const n of ['n1', 'n2', 'n3']) {
      const check = await floe(license, 'check', '--key-file', keyFile, '--vendor-key', vendorKey, '--data-dir', join(root, n));
      expect(check.exit, `${n}: ${check.stderr}`).toBe(0);
      expect(check.last).toBe(licenseId);
    }
    const elsewhere = await floe(license, 'check', '--key-file', keyFile, '--vendor-key', vendorKey, '--data-dir', join(root, 'n4'));
    expect(elsewhere.stderr).toMatch(/^LOCK_CODE_MISMATCH/);

    await page.getByRole('navigation', { name: 'Key center' }).getByRole('link', { name: 'View codes by host' }).click();
    const host = page.getByRole('region', { name: 'Host License servers, Minneapolis data center' });
    await host.waitFor();
    const text = await host.innerText();
    for (const l of locks) expect(text).toContain(l);
    expect(text).toContain(licenseId);
    expect(text).toContain('Redundant: 3 servers');
    expect(text).toMatch(/Active/);

    await vi.waitFor(() => expect(smtp.received.some((m) => m.text.includes(`Subject: License key ${licenseId}`))).toBe(true), { timeout: 15_000, interval: 100 });
    await context.close();
    // A browser on a shared machine: a bound, not a goal (about 12 s when it is quiet).
  }, 90_000);
});
