// The console's overview shows each member's TLS certificate end with the
// license expiry colours (issue 17): a three-node cluster over mutual TLS
// whose n2 certificate ends in 10 days and n3's in 5, in Debian's Chromium.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAdminApp, hashToken } from '../../admin/index.ts';
import { parseConfig, startDaemon, type Daemon } from '../../daemon/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { writeTestSiteTls } from '../../daemon/tls/site-pki.test-support.ts';
import { encodeBase64url } from '../../protocol/index.ts';
import { fetchTrustingCa } from '../../cli/ca-fetch.ts';
import { ADMIN_TOKEN, VENDOR_PUBLIC_KEY, makeLicenseKey, tempDir } from '../daemon/test-daemon.test-support.ts';
import { freePorts } from '../cluster/cluster-harness.test-support.ts';
import { hasChromium, launchChromium } from '../portal/chromium.test-support.ts';

/** The page's document, inside page.evaluate() (this project's types have no DOM). */
declare const document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null; className: string }> };

const ids = ['n1', 'n2', 'n3'];
/** Days each member's certificate is issued for: n1 the default (over a year). */
const CERTIFICATE_DAYS: Record<string, number | undefined> = { n1: undefined, n2: 10, n3: 5 };

let dir: string;
let caPem: string;
const daemons: Daemon[] = [];
let browser: Browser | undefined;

beforeAll(async () => {
  dir = tempDir('floe-console-tls-');
  const site = await writeTestSiteTls(dir, ids);
  caPem = site.ca.certPem;
  for (const id of ids) {
    const days = CERTIFICATE_DAYS[id];
    if (days !== undefined) await site.renew(id, { days });
  }
  const ports = await freePorts(6);
  const identities = ids.map((id) => {
    mkdirSync(join(dir, id));
    return loadNodeIdentity(join(dir, id));
  });
  const licenseFile = join(dir, 'demo.license');
  writeFileSync(licenseFile, makeLicenseKey(identities.map((i) => i.lockCode), { seats: 2 }));
  const peers = ids.map((id, i) => ({ id, peerUrl: `wss://127.0.0.1:${ports[i]}/raft`, clientUrl: `wss://127.0.0.1:${ports[3 + i]}/ws`, publicKey: encodeBase64url(identities[i]!.publicKey) }));
  for (const [i, id] of ids.entries()) {
    const config = parseConfig({
      nodeId: id,
      dataDir: join(dir, id),
      clientListen: `127.0.0.1:${ports[3 + i]}`,
      adminListen: '127.0.0.1:0',
      vendorPublicKeys: [VENDOR_PUBLIC_KEY],
      adminTokenSha256: [hashToken(ADMIN_TOKEN)],
      licenseFiles: [licenseFile],
      tls: site.nodes[id],
      cluster: { peers, peerListen: `127.0.0.1:${ports[i]}` },
    });
    daemons.push(await startDaemon(config, { adminApp: (node, d) => createAdminApp(node, { tokenSha256: config.adminTokenSha256, bodyBytesMax: 65_536, tlsStatus: d.tlsStatus }) }));
  }
  if (hasChromium()) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const d of daemons) await d.close();
  rmSync(dir, { recursive: true, force: true });
});

/** GET /api/v1/cluster of n1 over https, trusting the site CA. */
async function clusterOfN1(): Promise<{ nodes: { id: string; tlsNotAfter?: string }[] }> {
  const res = await fetchTrustingCa(caPem)(`${daemons[0]!.adminUrl}/api/v1/cluster`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return (await res.json()) as { nodes: { id: string; tlsNotAfter?: string }[] };
}

describe('each member\'s TLS certificate end', () => {
  it('GET /cluster tells when each member\'s certificate ends, its own as loaded and the others\' as shown on the peer links', async () => {
    const view = await vi.waitFor(async () => {
      const v = await clusterOfN1();
      expect(v.nodes.map((n) => [n.id, n.tlsNotAfter === undefined])).toEqual(ids.map((id) => [id, false]));
      return v;
    }, { timeout: 30_000, interval: 200 });
    const daysLeft = (id: string) => (Date.parse(view.nodes.find((n) => n.id === id)!.tlsNotAfter!) - Date.now()) / 86_400_000;
    expect(daysLeft('n1')).toBeGreaterThan(300);
    expect(daysLeft('n2')).toBeGreaterThan(9);
    expect(daysLeft('n2')).toBeLessThanOrEqual(10);
    expect(daysLeft('n3')).toBeGreaterThan(4);
    expect(daysLeft('n3')).toBeLessThanOrEqual(5);
  }, 60_000);

  it.skipIf(!hasChromium())('the overview colours n2 (10 days) as the 14-day warning and n3 (5 days) as the 7-day one, and alerts on both', async () => {
    // The test browser does not know the site CA; what is under test is the page, not the browser's trust.
    const context = await browser!.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const adminUrl = daemons[0]!.adminUrl;
      await page.goto(`${adminUrl}/`);
      await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${adminUrl}/`);
      await vi.waitFor(async () => {
        await page.reload();
        expect(await page.getByRole('columnheader', { name: 'TLS certificate ends' }).count()).toBe(1);
        expect(await page.locator('td[data-days-left]').count()).toBe(3);
      }, { timeout: 30_000, interval: 500 });
      const cells = await page.evaluate(() => Array.from(document.querySelectorAll('td[data-days-left]'), (td) => [td.textContent ?? '', td.className]));
      expect(cells).toHaveLength(3);
      const [n1, n2, n3] = cells as [[string, string], [string, string], [string, string]];
      expect(n1[1]).toBe('');
      expect(n1[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d \(\d{3} days left\)$/);
      expect(n2).toEqual([expect.stringMatching(/\((9|10) days left\)$/), 'exp-14']);
      expect(n3).toEqual([expect.stringMatching(/\((4|5) days left\)$/), 'exp-7']);
      const alerts = await page.locator('ul.alerts li').allTextContents();
      expect(alerts).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^Member n2's TLS certificate ends in (9|10) days: issue a new one \(floe tls issue\)/),
          expect.stringMatching(/^Member n3's TLS certificate ends in (4|5) days/),
        ]),
      );
      await page.screenshot({ path: join(dir, '..', 'floe-console-certificates.png'), fullPage: true });
    } finally {
      await context.close();
    }
  }, 90_000);
});
