// The console in Debian's Chromium against a real three-node cluster of
// `floe serve` processes (issue 15's acceptance): sign in on a follower, a
// client's checkout shows on the pools page without a reload, freeing it
// from the leases page revokes it at the client, the usage chart draws, and
// a viewer gets no free button and a 403 from the route.
import { cpus, loadavg } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, type FloeClient, type RevokedEvent } from '../../client/index.ts';
import { ClusterSite, type SiteNode } from '../cluster/cluster-harness.test-support.ts';
import { ADMIN_TOKEN } from '../daemon/test-daemon.test-support.ts';
import { hasChromium, launchChromium } from '../portal/chromium.test-support.ts';

/** The page's document, inside page.evaluate() (this project's types have no DOM). */
declare const document: { querySelector(selector: string): { textContent: string | null; getAttribute(name: string): string | null } | null };

/** `ms` the pools page may take to show a checkout on a quiet machine (issue 15: within a second). */
const LIVE_UPDATE_MS_MAX = 1000;

/**
 * The live-update bound on this machine now: a second, stretched by how far the 1-minute load
 * average exceeds the cores (at load 30 on 2 cores every process gets a fifteenth of a core, and
 * the shared test machine runs there); the measured figure is printed either way.
 */
function liveUpdateBoundMs(): number {
  return Math.round(LIVE_UPDATE_MS_MAX * Math.max(1, loadavg()[0]! / cpus().length));
}

let site: ClusterSite;
let follower: SiteNode;
let browser: Browser;
const clients: FloeClient[] = [];

// Starting three floe serve processes may take the harness's 60 s each under load, and Chromium after.
beforeAll(async () => {
  // A checked-in seat lingers 10 minutes for its last user: the pools page shows it as Lingering.
  site = await ClusterSite.create({ seats: 5, license: { lingerSeconds: 600 }, extraToml: ['leaseTtlMs = 30000', 'heartbeatMs = 2000'] });
  await Promise.all(site.nodes.map((n) => site.start(n.id)));
  const leaderId = await site.leader();
  follower = site.nodes.find((n) => n.id !== leaderId)!;
  // The site license is installed by the leader as it takes office.
  await vi.waitFor(
    async () => {
      const pools = await site.admin(follower.id, '/pools');
      expect(pools?.status === 200 && (pools.body as { feature: string }[]).some((p) => p.feature === 'demo'), `${follower.id} to list the demo pool`).toBe(true);
    },
    { timeout: 30_000, interval: 50 },
  );
  browser = await launchChromium();
}, 150_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => {});
  await browser?.close();
  await site?.stop();
});

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(`${follower.adminUrl}/pools`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${follower.adminUrl}/pools`);
}

async function client(user: string): Promise<FloeClient> {
  const c = await connect({ servers: site.nodes.map((n) => n.clientUrl), user, host: `${user}-pc`, app: 'e2e' });
  clients.push(c);
  return c;
}

describe.skipIf(!hasChromium())('the console in a browser, on a follower of a three-node cluster', () => {
  it('shows a checkout live, frees it from the leases page (the client hears revoked), and draws the usage chart', async () => {
    const page = await browser.newPage();
    await signIn(page, ADMIN_TOKEN);
    await expect.poll(() => page.locator('[data-live-status]').textContent(), { timeout: 10_000 }).toMatch(/^Live: node n\d \(follower\)/);
    const inUse = page.locator('tr[data-pool^="demo@"] [data-field="seatsInUse"]');
    expect(await inUse.textContent()).toBe('0');

    const alice = await client('alice');
    const lease = await alice.checkout('demo');
    const ackedAt = Date.now();
    await page.waitForFunction(() => document.querySelector('tr[data-pool^="demo@"] [data-field="seatsInUse"]')?.textContent === '1', undefined, { timeout: 10_000 });
    const shownAfterMs = Date.now() - ackedAt;
    const boundMs = liveUpdateBoundMs();
    process.stdout.write(`pools page showed the checkout ${shownAfterMs} ms after the client's grant (bound ${boundMs} ms at load ${loadavg()[0]!.toFixed(1)})\n`);
    expect(shownAfterMs).toBeLessThanOrEqual(boundMs);
    expect(page.url()).toBe(`${follower.adminUrl}/pools`);

    const revoked = new Promise<RevokedEvent>((resolve) => alice.once('revoked', resolve));
    await page.getByRole('link', { name: 'Leases' }).click();
    await page.getByRole('link', { name: `Free ${lease.leaseId}` }).click();
    await page.getByLabel('Reason (the holder is told)').fill('e2e: the license admin needs it back');
    await page.getByRole('button', { name: 'Free the seat' }).click();
    await page.waitForURL(/\/leases\?freed=/);
    expect(await revoked).toMatchObject({ leaseId: lease.leaseId });
    expect((await revoked).reason).toContain('e2e: the license admin needs it back');

    await page.goto(`${follower.adminUrl}/usage?feature=demo&range=day`);
    await page.locator('#usage-chart canvas').first().waitFor({ timeout: 10_000 });
    const data = JSON.parse((await page.locator('#usage-data').textContent()) ?? '{}') as { peak: number[] };
    expect(Math.max(...data.peak)).toBeGreaterThanOrEqual(1);
    // The chart's dates are UTC and ISO like the reports', whatever the browser's locale.
    const plot = page.locator('#usage-chart .u-over').first();
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => page.locator('#usage-chart .u-legend .u-series').first().locator('.u-value').textContent(), { timeout: 5_000 }).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    await page.close();
  }, 90_000);

  it('shows on the overview that every member is in the site key, with the lock code floe lockcode prints', async () => {
    const cluster = await site.admin(follower.id, '/cluster');
    const shown = (cluster!.body as { nodes: { id: string; lockCode: string | null }[] }).nodes.map((n) => [n.id, n.lockCode]);
    expect(shown.sort()).toEqual(site.nodes.map((n) => [n.id, n.lockCode]).sort());
    const page = await browser.newPage();
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${follower.adminUrl}/`);
    for (const n of site.nodes) await expect.poll(() => page.getByRole('cell', { name: n.lockCode, exact: true }).count(), { timeout: 5_000 }).toBe(1);
    expect(await page.getByText('matches', { exact: true }).count()).toBe(3);
    expect(await page.getByText('in no key').count()).toBe(0);
    await page.close();
  }, 60_000);

  it('shows a checked-in seat as lingering live, still counted in use', async () => {
    const page = await browser.newPage();
    await signIn(page, ADMIN_TOKEN);
    await expect.poll(() => page.locator('[data-live-status]').textContent(), { timeout: 10_000 }).toMatch(/^Live: node n\d/);
    const cell = (field: string) => page.locator(`tr[data-pool^="demo@"] [data-field="${field}"]`);
    const lingeringBefore = Number(await cell('seatsLingering').textContent());
    const inUseBefore = Number(await cell('seatsInUse').textContent());

    const carol = await client('carol');
    const lease = await carol.checkout('demo');
    await expect.poll(() => cell('seatsInUse').textContent(), { timeout: 10_000 }).toBe(String(inUseBefore + 1));
    await carol.checkin(lease.leaseId);
    await expect.poll(() => cell('seatsLingering').textContent(), { timeout: 10_000 }).toBe(String(lingeringBefore + 1));
    expect(await cell('seatsInUse').textContent()).toBe(String(inUseBefore + 1));
    expect(page.url()).toBe(`${follower.adminUrl}/pools`);
    await page.close();
  }, 60_000);

  it('shows a viewer no free button, and the route refuses the viewer 403', async () => {
    // Created through the follower: the token command is forwarded to the leader like any change.
    const res = await fetch(`${follower.adminUrl}/api/v1/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'viewer', name: 'e2e-viewer' }),
    });
    expect(res.status).toBe(201);
    const viewerToken = ((await res.json()) as { token: string }).token;
    const bob = await client('bob');
    const lease = await bob.checkout('demo');

    const page = await browser.newPage();
    await signIn(page, viewerToken);
    await page.goto(`${follower.adminUrl}/leases`);
    await expect.poll(() => page.getByRole('cell', { name: lease.leaseId }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByRole('link', { name: /^Free/ }).count()).toBe(0);
    const status = await page.evaluate(async (leaseId) => {
      const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') ?? '';
      const r = await fetch(`/api/v1/leases/${leaseId}`, { method: 'DELETE', headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: '{"reason":"viewer"}' });
      return { status: r.status, body: await r.json() };
    }, lease.leaseId);
    expect(status).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(bob.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
    await page.close();
  }, 60_000);
});
