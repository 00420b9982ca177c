// `npm run docs:screenshots`: the pictures of the portal in docs/keycenter.md,
// taken in Debian's Chromium of the sample key center (a customer account a
// few months in). Run it after a change to the pages; look at each picture
// before committing it.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { startKeyCenterServer } from '../../keycenter/server/key-center-server.ts';
import { launchChromium } from './chromium.test-support.ts';
import { SAMPLE_EMAIL, SAMPLE_PASSWORD, sampleKeyCenter, sampleLockCode } from './sample-key-center.test-support.ts';

const OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'images');

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUT_DIR, `keycenter-${name}.png`), fullPage: false });
  process.stdout.write(`docs/images/keycenter-${name}.png\n`);
}

const { kc, dir } = await sampleKeyCenter();
const server = await startKeyCenterServer(kc, { listen: '127.0.0.1:0' });
const browser = await launchChromium();
try {
  mkdirSync(OUT_DIR, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  const base = server.url;
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('E-mail address').fill(SAMPLE_EMAIL);
  await shot(page, 'sign-in');
  await page.getByLabel('Password').fill(SAMPLE_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/accounts`);
  await shot(page, 'choose-account');
  await page.getByRole('button', { name: /Contoso Research/ }).click();
  await page.waitForURL(`${base}/codes`);
  await shot(page, 'codes');

  const lines = await kc.listEntitlements({ siteNumber: '4711-0032' });
  const temporary = lines.find((e) => e.comment === 'Summer project')!;
  await page.goto(`${base}/codes/${temporary.authCode}/activate`);
  await page.getByRole('link', { name: /Redundant license/ }).click();
  await page.getByLabel('Lock code of server 1').fill(sampleLockCode('proj-1'));
  await page.getByLabel('Lock code of server 2').fill(sampleLockCode('proj-2').toLowerCase());
  const third = sampleLockCode('proj-3');
  await page.getByLabel('Lock code of server 3').fill(`${third.slice(0, 6)}${third[6] === 'X' ? 'Y' : 'X'}${third.slice(7)}`);
  await page.getByLabel('Host description (optional)').fill('Project servers, Chicago');
  await page.getByLabel('Host description (optional)').focus();
  await page.getByText('LOCK_CODE_TYPO').waitFor();
  await shot(page, 'activate');
  await page.getByLabel('Lock code of server 3').fill(third);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Comment (optional)').fill('Summer project, three servers');
  await shot(page, 'activate-confirm');
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.waitForURL(/\/keys\/LIC-/);
  await shot(page, 'key');
  await page.goto(`${base}/hosts`);
  await shot(page, 'hosts');
  await page.goto(`${base}/orders`);
  await shot(page, 'orders');
  await page.goto(`${base}/members`);
  await shot(page, 'members');
} finally {
  await browser.close();
  await server.close();
  await kc.close();
  rmSync(dirname(dir), { recursive: true, force: true });
}
