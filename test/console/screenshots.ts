// `npm run docs:screenshots` (with the portal's): the pictures of the web
// console in README.md and docs/console.md, taken in Debian's Chromium of a
// real three-node cluster of `floe serve` processes with a sample site's
// ten working days of usage (sample-usage.test-support.ts), three licenses
// (one permanent, two ending soon) and a few clients holding seats. Signed
// in on a follower, as an admin would be. Run it after a change to the
// pages; look at each picture before committing it.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { connect, type FloeClient } from '../../client/index.ts';
import { ClusterSite } from '../cluster/cluster-harness.test-support.ts';
import { ADMIN_TOKEN, makeLicenseKey } from '../daemon/test-daemon.test-support.ts';
import { launchChromium } from '../portal/chromium.test-support.ts';
import { sampleUsageRows, writeSampleUsage } from './sample-usage.test-support.ts';

const OUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'images');
const DAY_MS = 86_400_000;
/** The users of the sample site. */
const ENGINEERS = ['ana', 'ben', 'chen', 'dara', 'eli', 'fatima', 'gus', 'hana', 'ivan', 'jo', 'kai', 'lena', 'mo', 'nina', 'omar', 'pia', 'raj', 'sara'];

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(OUT_DIR, `console-${name}.png`), fullPage });
  process.stdout.write(`docs/images/console-${name}.png\n`);
}

const site = await ClusterSite.create({ seats: 8, extraToml: ['leaseTtlMs = 30000', 'heartbeatMs = 2000'] });
const clients: FloeClient[] = [];
const browser = await launchChromium();
try {
  mkdirSync(OUT_DIR, { recursive: true });
  const rows = sampleUsageRows({
    seed: 7,
    days: 10,
    endMs: Date.now(),
    features: [
      { feature: 'demo', version: '1', seats: 8, users: ENGINEERS, dailyShare: 0.7 },
      { feature: 'sim', version: '4', seats: 3, users: ENGINEERS.slice(0, 6), dailyShare: 0.6 },
    ],
  });
  for (const n of site.nodes) writeSampleUsage(join(site.dir, n.id), rows);
  await Promise.all(site.nodes.map((n) => site.start(n.id)));
  const leaderId = await site.leader();
  const follower = site.nodes.find((n) => n.id !== leaderId)!;
  const lockCodes = site.nodes.map((n) => n.lockCode);
  /** Imports through the follower (forwarded to the leader); retried while the cluster settles (503 UNAVAILABLE). */
  const importKey = async (key: string) => {
    for (let attempt = 1; ; attempt++) {
      const res = await fetch(`${follower.adminUrl}/api/v1/licenses`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ key }) });
      if (res.status === 201) return;
      if (res.status !== 503 || attempt === 20) throw new Error(`license import answered ${res.status}: ${await res.text()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  await importKey(makeLicenseKey(lockCodes, { licenseId: 'LIC-SIM-4', authCode: 'AUTH-SIM', product: 'sim', version: '4', seats: 3, expiresAt: Date.now() + 20 * DAY_MS, orderNumber: 'PO-2291' }));
  await importKey(makeLicenseKey(lockCodes, { licenseId: 'LIC-EVAL-VIZ', authCode: 'AUTH-VIZ', product: 'viz', version: '2', seats: 2, expiresAt: Date.now() + 5 * DAY_MS }));
  for (let i = 0; i < 200; i++) {
    const pools = await site.admin(follower.id, '/pools');
    if (pools?.status === 200 && (pools.body as { feature: string }[]).length === 3) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const [user, feature] of [
    ['ana', 'demo'],
    ['ben', 'demo'],
    ['chen', 'demo'],
    ['dara', 'demo'],
    ['eli', 'demo'],
    ['ana', 'sim'],
    ['fatima', 'sim'],
  ] as const) {
    const c = await connect({ servers: site.nodes.map((n) => n.clientUrl), user, host: `${user}-ws`, app: feature });
    clients.push(c);
    await c.checkout(feature);
  }

  const page = await browser.newPage({ viewport: { width: 1280, height: 820 } });
  const base = follower.adminUrl;
  await page.goto(`${base}/`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await shot(page, 'sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  // The clock skew is measured on the peers' pings: wait until the overview shows it.
  for (let i = 0; i < 40 && (await page.getByText(/[+−±]\d+ ms/).count()) === 0; i++) {
    await new Promise((r) => setTimeout(r, 500));
    await page.reload();
  }
  await shot(page, 'overview');

  await page.goto(`${base}/pools`);
  await page.locator('[data-live-status]').filter({ hasText: /^Live: node/ }).waitFor();
  const late = await connect({ servers: site.nodes.map((n) => n.clientUrl), user: 'gus', host: 'gus-ws', app: 'demo' });
  clients.push(late);
  await late.checkout('demo');
  await page.locator('[data-live-events] li').first().waitFor();
  await shot(page, 'pools');

  await page.goto(`${base}/usage?feature=demo&range=week`);
  await page.locator('[data-usage-chart] canvas').first().waitFor();
  await shot(page, 'usage', true);

  await page.goto(`${base}/leases`);
  await shot(page, 'leases');
  await page.getByRole('link', { name: /^Free / }).first().click();
  await page.getByLabel('Reason (the holder is told)').fill('Needed for the release build, sorry');
  await shot(page, 'free');

  await page.goto(`${base}/licenses`);
  await shot(page, 'licenses');
  await page.goto(`${base}/reports`);
  await shot(page, 'reports');
  await page.goto(`${base}/api-reference`);
  await page.locator('.swagger-ui .opblock').first().waitFor();
  await shot(page, 'api-reference');
} finally {
  for (const c of clients) await c.close().catch(() => {});
  await browser.close();
  await site.stop();
}
