// Renewals and member replacements through online activation, end to end: a
// key center on loopback with a customer account and its orders, a cluster
// of three in-process nodes (a fourth to replace one), and `floe license
// activate` as the sysadmin types it. A renewal's key replaces the renewed
// key in one log entry, and a client of the older version keeps its seat
// and finds the seats counted once; after a member is replaced, the same
// code gets a key for the new three that supersedes the old one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { floe } from '../../cli/cli-harness.test-support.ts';
import { run as license } from '../../cli/license.ts';
import { addOrder, createAccount } from '../../keycenter/accounts.ts';
import { generateCodes } from '../../keycenter/code-generation.ts';
import { initKeyCenter, KeyCenter } from '../../keycenter/key-center.ts';
import { startKeyCenterServer } from '../../keycenter/server/key-center-server.ts';
import { ADMIN_TOKEN, type WireClient } from '../daemon/test-daemon.test-support.ts';
import { InProcessSite } from './in-process-site.test-support.ts';
import { canonicalLockCode, defined } from './site-tools.test-support.ts';

/** `ms` a wait may take (a leader, an apply, a catch-up) on a loaded machine. */
const SETTLE_MS_MAX = 30_000;
const SITE_NUMBER = 'S-4711';

let root: string;
let kc: KeyCenter;
let keyCenter: { url: string; close(): Promise<void> };
let site: InProcessSite;
let tokenFile: string;

/** `floe license activate` against the leader's admin API. */
async function activate(...argv: string[]) {
  const leader = await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: SETTLE_MS_MAX });
  return floe(license, 'activate', '--admin', leader.adminUrl, '--token-file', tokenFile, ...argv);
}

async function get(path: string): Promise<any[]> {
  const r = await site.admin('GET', path);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.data ?? r.body;
}

/** One code of `seats` seats from order line `lineId`, as the account's member generates it. */
async function codeFrom(lineId: string, seats: number): Promise<string> {
  const member = await kc.ctx.store.read((q) => q.userByEmail('ada@example.com'));
  const [code] = await generateCodes(kc.ctx, { siteNumber: SITE_NUMBER, userId: member!.userId, email: 'ada@example.com' }, { lineId, seats });
  return code!.authCode;
}

async function order(customerOrderNumber: string, line: { version: string; quantity: number; renewsLineId?: string }): Promise<string> {
  const o = await addOrder(
    kc.ctx,
    SITE_NUMBER,
    { customerOrderNumber, contacts: [{ email: 'ada@example.com', name: 'Ada Lovelace', role: 'primary' }], lines: [{ product: 'plot', model: 'concurrent', ...line }] },
    'cli',
  );
  return o.lines[0]!.lineId;
}

async function client(id: string, clientId: string): Promise<WireClient> {
  const wire = await site.wire(id);
  const hello = await wire.hello(clientId);
  expect(hello['ok'], JSON.stringify(hello)).toBe(true);
  return wire;
}

beforeAll(async () => {
  root = mkdtempSync(join(os.tmpdir(), 'floe-renewal-'));
  initKeyCenter(join(root, 'kc'));
  kc = await KeyCenter.open(join(root, 'kc'));
  await createAccount(kc.ctx, { siteNumber: SITE_NUMBER, companyName: 'Acme Analytics' }, 'vendor:ann');
  keyCenter = await startKeyCenterServer(kc, { listen: '127.0.0.1:0' });
  tokenFile = join(root, 'admin-token');
  writeFileSync(tokenFile, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  site = await InProcessSite.create({
    ids: ['n1', 'n2', 'n3', 'n4'],
    dirPrefix: 'floe-renewal-site-',
    debugEnv: 'DEBUG_RENEWAL',
    // Leases outlive the test's pauses without heartbeats.
    config: { vendorPublicKeys: [kc.publicKeyText], keyCenterUrl: keyCenter.url, keyCenterTimeoutMs: 5000, leaseTtlMs: 120_000 },
  });
  const first = [0, 1, 2].map((i) => site.peer(i));
  for (const i of [0, 1, 2]) await site.start(i, first);
  await vi.waitFor(() => defined(site.leader(), 'a leader'), { timeout: SETTLE_MS_MAX });
  await vi.waitFor(() => expect(site.leader()!.node.memberLockCodes().every((m) => m.connected && m.lockCode !== undefined), 'every member to know every lock code').toBe(true), { timeout: SETTLE_MS_MAX });
}, 90_000);

afterAll(async () => {
  await site?.close();
  await keyCenter?.close();
  await kc?.close();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe('a maintenance renewal activated online', () => {
  it('replaces the renewed key in one step: a client of the old version keeps its seat, checks out again, and the seats count once', async () => {
    const lineId = await order('CO-1', { version: '29', quantity: 3 });
    const first = await activate('--code', await codeFrom(lineId, 3));
    expect(first.exit, first.stderr).toBe(0);
    const old = first.last;
    const v29 = await client('n1', 'renewal-old-client');
    const held = await v29.checkout('renewal-r1', { feature: 'plot', version: '29' });
    expect(held['ok'], JSON.stringify(held)).toBe(true);

    const renewalLine = await order('CO-2', { version: '30', quantity: 3, renewsLineId: lineId });
    const renewed = await activate('--code', await codeFrom(renewalLine, 3));
    expect(renewed.exit, renewed.stderr).toBe(0);
    expect(renewed.stdout).toContain(`superseded ${old}`);
    const plot = (await get('/licenses')).filter((l) => l.product === 'plot');
    expect(plot.map((l) => [l.licenseId, l.version, l.supersedes])).toEqual([[renewed.last, '30', old]]);
    expect((await get('/licenses/retired')).map((l) => [l.licenseId, l.reason, l.supersededBy])).toContainEqual([old, 'superseded', renewed.last]);
    expect((await get('/pools')).filter((p) => p.feature === 'plot')).toMatchObject([{ version: '30', seatsTotal: 3, seatsInUse: 1 }]);
    expect((await get('/leases?feature=plot')).map((l) => l.leaseId)).toEqual([held['leaseId']]);

    // The old version's client is served by the renewal, up to its 3 seats and no further.
    for (const r of ['renewal-r2', 'renewal-r3']) expect((await v29.checkout(r, { feature: 'plot', version: '29' }))['ok'], r).toBe(true);
    const fourth = await v29.checkout('renewal-r4', { feature: 'plot', version: '29' });
    expect(fourth['error']?.code, JSON.stringify(fourth)).toBe('NO_SEATS');
    expect((await v29.checkin('renewal-r5', held['leaseId'] as string))['ok']).toBe(true);
    // The key center shows the renewed key replaced by the renewal's.
    expect((await kc.listKeys({ siteNumber: SITE_NUMBER })).map((k) => [k.version, k.status])).toEqual([
      ['29', 'superseded'],
      ['30', 'active'],
    ]);
  });
});

describe('replacing a member, then activating the same code', () => {
  it('installs a key for the new three that supersedes the old one: seats counted once, leases kept; a retry changes nothing', async () => {
    const [e] = await kc.entitle({ product: 'cad', version: '7', model: 'concurrent', seats: 4, orderNumber: 'CO-9' });
    const first = await activate('--code', e!.authCode);
    expect(first.exit, first.stderr).toBe(0);
    const old = first.last;
    const wire = await client('n1', 'rehost-client');
    const held = await wire.checkout('rehost-r1', { feature: 'cad' });
    expect(held['ok'], JSON.stringify(held)).toBe(true);

    // n3 dies; n4 starts empty, is added, and n3 is removed.
    await site.stop('n3');
    await vi.waitFor(() => defined(site.leader(), 'a leader among the survivors'), { timeout: SETTLE_MS_MAX });
    const p4 = site.peer(3);
    await site.start(3, [0, 1, 2, 3].map((i) => site.peer(i)), true);
    const added = await site.changeMembers('POST', '/cluster/members', { id: 'n4', peerUrl: p4.peerUrl, clientUrl: p4.clientUrl, publicKey: p4.publicKey });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const removed = await site.changeMembers('DELETE', '/cluster/members/n3');
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    await vi.waitFor(() => expect(site.leader()?.node.memberLockCodes().every((m) => m.id !== 'n3' && m.connected && m.lockCode !== undefined), 'the leader to know n4 and forget n3').toBe(true), { timeout: SETTLE_MS_MAX });

    const moved = await activate('--code', e!.authCode);
    expect(moved.exit, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(`superseded ${old}`);
    const cad = (await get('/licenses')).filter((l) => l.product === 'cad');
    expect(cad.map((l) => [l.licenseId, l.supersedes, l.seats])).toEqual([[moved.last, old, 4]]);
    const newThree = [0, 1, 3].map((i) => canonicalLockCode(site.identities[i]!.lockCode)).sort();
    expect(cad[0].lockCodes.map(canonicalLockCode).sort()).toEqual(newThree);
    expect((await get('/pools')).filter((p) => p.feature === 'cad')).toMatchObject([{ seatsTotal: 4, seatsInUse: 1 }]);
    expect((await get('/leases?feature=cad')).map((l) => l.leaseId)).toEqual([held['leaseId']]);
    // n4 serves the feature now: its lock code is in the key.
    await vi.waitFor(() => expect(site.daemon('n4').node.featureRefusal('cad')).toBeUndefined(), { timeout: SETTLE_MS_MAX, interval: 50 });
    const onN4 = await client('n4', 'rehost-client-4');
    expect((await onN4.checkout('rehost-r2', { feature: 'cad' }))['ok']).toBe(true);

    // The key center released the old servers: the old key is superseded, the new one names the new three.
    const keys = (await kc.listKeys()).filter((k) => k.authCode === e!.authCode);
    expect(keys.map((k) => [k.licenseId, k.status])).toEqual([
      [old, 'superseded'],
      [moved.last, 'active'],
    ]);
    expect(keys[1]!.lockCodes.map(canonicalLockCode).sort()).toEqual(newThree);

    // A retry (the answer was lost, or the command run twice) gets the same key, installed already: nothing changes.
    const again = await activate('--code', e!.authCode);
    expect([again.exit, again.stderr]).toEqual([1, expect.stringContaining('ALREADY_ACTIVATED')]);
    expect(again.stderr).toContain(moved.last);
    expect((await kc.listKeys()).filter((k) => k.authCode === e!.authCode)).toHaveLength(2);
    expect((await get('/licenses')).filter((l) => l.product === 'cad').map((l) => l.licenseId)).toEqual([moved.last]);
  }, 120_000);
});
