// The demo's key center: a customer account with the demo order and a member
// who can sign in to the portal at once, and the demo license issued from
// that order — so `npm start` shows the self-service portal with something
// in it. Kept across runs: the account, the member's password (in
// DIR/keycenter-demo-password) and the key are reused while they fit.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addMember,
  addOrder,
  CONFIG_FILE_NAME,
  createAccount,
  generateCodes,
  ordersOf,
  setMemberPassword,
  type IssuedKey,
  type KeyCenter,
} from '../keycenter/index.ts';

/** The demo account's site number, company and member. */
export const DEMO_SITE_NUMBER = '1000-0001';
export const DEMO_COMPANY = 'Demo Customer Inc.';
export const DEMO_EMAIL = 'demo@example.com';
/** The file holding the demo member's password (owner-only). */
export const DEMO_PASSWORD_FILE = 'keycenter-demo-password';

/** Writes KC/keycenter.toml for the demo (its URL, a vendor name) unless one exists. */
export function writeDemoKeyCenterConfig(kcDir: string, url: string): void {
  const path = join(kcDir, CONFIG_FILE_NAME);
  if (existsSync(path)) return;
  writeFileSync(
    path,
    ['# floe demo key center; every option is described in docs/keycenter.md', `publicUrl = ${JSON.stringify(url)}`, 'vendorName = "Floe Demo Key Center"', '# No [mail] smtpUrl: mail is written to outbox/*.eml', ''].join('\n'),
  );
}

/** Ensures the demo account, its member (an admin) and their password; answers the sign-in. */
export async function ensureDemoAccount(kc: KeyCenter, demoDir: string): Promise<{ email: string; password: string }> {
  const ctx = kc.ctx;
  if ((await ctx.store.read((q) => q.account(DEMO_SITE_NUMBER))) === undefined) {
    await createAccount(ctx, { siteNumber: DEMO_SITE_NUMBER, companyName: DEMO_COMPANY }, 'demo');
  }
  let user = await ctx.store.read((q) => q.userByEmail(DEMO_EMAIL));
  if (user === undefined || (await ctx.store.read((q) => q.member(DEMO_SITE_NUMBER, user!.userId))) === undefined) {
    await addMember(ctx, { siteNumber: DEMO_SITE_NUMBER, actor: 'demo' }, { email: DEMO_EMAIL, name: 'Demo Admin', role: 'admin' });
    user = await ctx.store.read((q) => q.userByEmail(DEMO_EMAIL));
  }
  const passwordPath = join(demoDir, DEMO_PASSWORD_FILE);
  let password = existsSync(passwordPath) ? readFileSync(passwordPath, 'utf8').trim() : '';
  if (password === '' || user?.passwordHash === null) {
    password = `demo-${randomBytes(9).toString('base64url')}`;
    await setMemberPassword(ctx, DEMO_EMAIL, password, 'demo');
    writeFileSync(passwordPath, `${password}\n`, { mode: 0o600 });
  }
  return { email: DEMO_EMAIL, password };
}

/**
 * A key for `seats` seats of `product` on `lockCodes`: the demo account's key
 * of that many seats moved there (a rehost, superseding it), or a new demo
 * order's code activated. Call ensureDemoAccount() first: the order's contact is the demo member.
 */
export async function issueDemoKey(kc: KeyCenter, request: { product: string; seats: number; lockCodes: string[]; hostDescription: string }): Promise<IssuedKey> {
  const ctx = kc.ctx;
  const previous = (await kc.listKeys({ siteNumber: DEMO_SITE_NUMBER })).find((k) => k.status === 'active' && k.product === request.product && k.seats === request.seats);
  if (previous !== undefined) return kc.rehost({ licenseId: previous.licenseId, lockCodes: request.lockCodes, hostDescription: request.hostDescription }, { actor: 'demo' });
  const count = (await ordersOf(ctx, DEMO_SITE_NUMBER)).length;
  const order = await addOrder(
    ctx,
    DEMO_SITE_NUMBER,
    {
      customerOrderNumber: count === 0 ? 'DEMO' : `DEMO-${count + 1}`,
      purchaseOrderNumber: 'PO-DEMO',
      contacts: [{ email: DEMO_EMAIL, name: 'Demo Admin', role: 'primary' }],
      lines: [{ product: request.product, version: '1', model: 'concurrent', quantity: request.seats }],
    },
    'demo',
  );
  const user = (await ctx.store.read((q) => q.userByEmail(DEMO_EMAIL)))!;
  const [code] = await generateCodes(ctx, { siteNumber: DEMO_SITE_NUMBER, userId: user.userId, email: DEMO_EMAIL }, { lineId: order.lines[0]!.lineId, seats: request.seats, comment: 'floe demo' });
  return kc.activate({ authCode: code!.authCode, lockCodes: request.lockCodes, hostDescription: request.hostDescription }, { actor: 'demo' });
}
