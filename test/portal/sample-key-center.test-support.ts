// A key center filled as a vendor's would be a few months in: a customer
// account with two orders (a bundle, a maintenance renewal), members, a join
// request, codes generated and activated on a redundant host, seats added to
// it, a rehost. The screenshots in docs/keycenter.md are taken of it.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { deriveLockCode } from '../../protocol/index.ts';
import {
  addMember,
  addOrder,
  createAccount,
  DEFAULT_CONFIG,
  generateCodes,
  initKeyCenter,
  KeyCenter,
  requestToJoin,
  setPasswordWithToken,
  type AccountScope,
} from '../../keycenter/index.ts';

/** The sample member's sign-in. */
export const SAMPLE_EMAIL = 'ada.lovelace@contoso.example';
export const SAMPLE_PASSWORD = 'analytical engine 1843';

/** A lock code of an imaginary machine `name`. */
export function sampleLockCode(name: string): string {
  const bytes = new TextEncoder().encode(name.padEnd(32, '.')).slice(0, 32);
  return deriveLockCode({ machineId: `machine-${name}`, macs: [], hostname: name }, bytes);
}

/** The token of the last `path` link mailed to `to`. */
async function mailedToken(kc: KeyCenter, to: string, path: string): Promise<string> {
  const mail = (await kc.ctx.store.read((q) => q.mails(1000))).find((m) => m.to === to && m.text.includes(path));
  const token = mail?.text.split(path)[1]?.split(/\s/)[0];
  if (token === undefined) throw new Error(`no ${path} mail to ${to}`);
  return token;
}

/** Creates the sample key center in a new temp directory; answers it open. */
export async function sampleKeyCenter(): Promise<{ kc: KeyCenter; dir: string; scope: AccountScope }> {
  const dir = join(mkdtempSync(join(os.tmpdir(), 'floe-kc-sample-')), 'kc');
  initKeyCenter(dir);
  const kc = await KeyCenter.open(dir, { config: { ...DEFAULT_CONFIG, vendorName: 'Acme Software Key Center', secureCookies: false } });
  const ctx = kc.ctx;
  await createAccount(ctx, { siteNumber: '4711-0032', companyName: 'Contoso Research Ltd.' }, 'vendor:ann');
  await createAccount(ctx, { siteNumber: '5200-0007', companyName: 'Contoso Labs GmbH' }, 'vendor:ann');
  const first = await addOrder(
    ctx,
    '4711-0032',
    {
      customerOrderNumber: 'CO-2026-0415',
      purchaseOrderNumber: 'PO-88231',
      orderedOn: '2026-04-15',
      contacts: [
        { email: SAMPLE_EMAIL, name: 'Ada Lovelace', role: 'primary' },
        { email: 'grace.hopper@contoso.example', name: 'Grace Hopper', role: 'technical' },
      ],
      lines: [
        { product: 'statistics', version: '29', model: 'concurrent', quantity: 100, borrowAllowed: true, borrowHoursMax: 72 },
        { product: 'statistics-premium', version: '29', model: 'authorized-user', quantity: 25, components: ['base', 'regression', 'amos'] },
      ],
    },
    'vendor:ann',
  );
  await addOrder(
    ctx,
    '4711-0032',
    {
      customerOrderNumber: 'CO-2026-0702',
      purchaseOrderNumber: 'PO-90014',
      orderedOn: '2026-07-02',
      contacts: [{ email: SAMPLE_EMAIL, name: 'Ada Lovelace', role: 'primary' }],
      lines: [{ product: 'statistics', version: '30', model: 'concurrent', quantity: 100, renewsLineId: first.lines[0]!.lineId }],
    },
    'vendor:ann',
  );
  await addOrder(
    ctx,
    '5200-0007',
    { customerOrderNumber: 'CO-2026-0588', contacts: [{ email: SAMPLE_EMAIL, name: 'Ada Lovelace', role: 'primary' }], lines: [{ product: 'statistics', version: '29', model: 'concurrent', quantity: 5 }] },
    'vendor:ann',
  );
  await setPasswordWithToken(ctx, { token: await mailedToken(kc, SAMPLE_EMAIL, '/set-password/'), purpose: 'set-password', password: SAMPLE_PASSWORD });
  const ada = (await ctx.store.read((q) => q.userByEmail(SAMPLE_EMAIL)))!;
  const scope: AccountScope = { siteNumber: '4711-0032', userId: ada.userId, email: SAMPLE_EMAIL };
  await addMember(ctx, { scope }, { email: 'alan.turing@contoso.example', name: 'Alan Turing', role: 'member' });
  await requestToJoin(ctx, { siteNumber: '4711-0032', orderNumber: 'CO-2026-0415', email: 'katherine.johnson@contoso.example', name: 'Katherine Johnson' });

  const cluster = ['mpls-lic-1', 'mpls-lic-2', 'mpls-lic-3'].map(sampleLockCode);
  const [sixty] = await generateCodes(ctx, scope, { lineId: first.lines[0]!.lineId, seats: 60, comment: 'Production cluster' });
  const host = await kc.activate({ authCode: sixty!.authCode, lockCodes: cluster, hostDescription: 'License servers, Minneapolis data center' }, { actor: `user:${SAMPLE_EMAIL}`, scope });
  const [thirty] = await generateCodes(ctx, scope, { lineId: first.lines[0]!.lineId, seats: 30 });
  await kc.addSeatsToHost({ authCode: thirty!.authCode, licenseId: host.licenseId }, { actor: `user:${SAMPLE_EMAIL}`, scope });
  await generateCodes(ctx, scope, { lineId: first.lines[0]!.lineId, seats: 5, expiresAt: Date.now() + 90 * 86_400_000, comment: 'Summer project' });
  const [team] = await generateCodes(ctx, scope, { lineId: first.lines[1]!.lineId, seats: 10 });
  const lab = await kc.activate({ authCode: team!.authCode, lockCodes: [sampleLockCode('lab-old')], hostDescription: 'Engineering license server' }, { actor: `user:${SAMPLE_EMAIL}`, scope });
  await kc.rehost({ licenseId: lab.licenseId, lockCodes: [sampleLockCode('lab-new')], hostDescription: 'Engineering license server (replacement)' }, { actor: 'vendor:ann' });
  await generateCodes(ctx, scope, { lineId: first.lines[1]!.lineId, seats: 3, split: 'per-user' });
  return { kc, dir, scope };
}
