// Borrowing from the vendor's own tools to a client's laptop: an order line
// recorded with `floe keycenter order add --line …,borrow=yes,borrow-hours=72`
// gives codes whose keys allow borrowing up to 72 h; a daemon that installs
// such a key lets a client borrow a seat (and refuses a longer borrow), while
// a key of a line without borrowing still answers BORROW_NOT_ALLOWED.
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { floe, removeTempDirs, tempDir } from '../../cli/cli-harness.test-support.ts';
import { run as keycenter } from '../../cli/keycenter.ts';
import { connect, isFloeError, type FloeClient } from '../../client/index.ts';
import { generateCodes } from '../../keycenter/code-generation.ts';
import { KeyCenter } from '../../keycenter/key-center.ts';
import { membersOf } from '../../keycenter/members.ts';
import { startTestDaemon, type TestDaemon } from '../daemon/test-daemon.test-support.ts';

const SITE = 'S-100';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(removeTempDirs);

/** Records an order of one line of feature "demo" (3 seats) with `extra` --line fields; returns the issued key text. */
async function keyFromOrderLine(kcDir: string, lockCode: string, extra: string): Promise<{ key: string; orderOutput: string; activateOutput: string }> {
  const order = await floe(keycenter, 'order', 'add', '--dir', kcDir, '--site', SITE, '--order', `ORD-${extra.length}`, '--contact', 'Ada Lovelace <ada@example.com>', '--line', `product=demo,version=1,model=concurrent,quantity=3${extra}`);
  expect(order.exit, order.stderr).toBe(0);
  const orderId = order.last;
  // The customer's member generates a code from the line, as the portal does.
  const kc = await KeyCenter.open(kcDir);
  let authCode: string;
  try {
    const [member] = await membersOf(kc.ctx, SITE);
    const line = (await kc.ctx.store.read((q) => q.lines({ orderId })))[0]!;
    const [code] = await generateCodes(kc.ctx, { siteNumber: SITE, userId: member!.userId, email: member!.email }, { lineId: line.lineId, seats: 3 });
    authCode = code!.authCode;
  } finally {
    await kc.close();
  }
  const activated = await floe(keycenter, 'activate', '--dir', kcDir, '--code', authCode, '--lock-code', lockCode);
  expect(activated.exit, activated.stderr).toBe(0);
  return { key: activated.last, orderOutput: order.stdout, activateOutput: activated.stdout };
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    return isFloeError(error) ? error.code : String(error);
  }
}

describe('a borrowable order line', () => {
  it('an order line marked borrow=yes,borrow-hours=72 yields a key a client can borrow a seat of, up to 72 hours', async () => {
    const root = tempDir();
    const kcDir = join(root, 'kc');
    const init = await floe(keycenter, 'init', '--dir', kcDir);
    expect(init.exit, init.stderr).toBe(0);
    expect((await floe(keycenter, 'account', 'create', '--dir', kcDir, '--site', SITE, '--company', 'Analytical Engines')).exit).toBe(0);
    const daemon: TestDaemon = await startTestDaemon({ vendorPublicKeys: [init.last] });
    cleanups.push(() => daemon.destroy());

    const borrowable = await keyFromOrderLine(kcDir, daemon.lockCode, ',borrow=yes,borrow-hours=72');
    expect(borrowable.orderOutput).toContain('borrowable up to 72 h (3 days)');
    expect(borrowable.activateOutput).toContain('borrowable up to 72 h (3 days)');
    const installed = await daemon.admin('POST', '/licenses', { key: borrowable.key });
    expect(installed.status, JSON.stringify(installed.body)).toBe(201);

    const client: FloeClient = await connect({ servers: [daemon.clientUrl], user: 'erin', host: 'erin-pc', app: 'e2e' });
    cleanups.push(() => client.close());
    expect(await outcome(client.borrow('demo', { hours: 73, fingerprint: 'erin-laptop' }))).toBe('BORROW_TOO_LONG');
    const seat = await client.borrow('demo', { hours: 72, fingerprint: 'erin-laptop' });
    expect(seat.expiresAt - seat.borrowedAt).toBe(72 * 3600 * 1000);
  });

  it('a key of a line without borrow=yes says "not borrowable" and its seats answer BORROW_NOT_ALLOWED', async () => {
    const root = tempDir();
    const kcDir = join(root, 'kc');
    const init = await floe(keycenter, 'init', '--dir', kcDir);
    await floe(keycenter, 'account', 'create', '--dir', kcDir, '--site', SITE, '--company', 'Analytical Engines');
    const daemon: TestDaemon = await startTestDaemon({ vendorPublicKeys: [init.last] });
    cleanups.push(() => daemon.destroy());
    const plain = await keyFromOrderLine(kcDir, daemon.lockCode, '');
    expect(plain.activateOutput).toContain('not borrowable');
    expect((await daemon.admin('POST', '/licenses', { key: plain.key })).status).toBe(201);
    const client: FloeClient = await connect({ servers: [daemon.clientUrl], user: 'erin', host: 'erin-pc', app: 'e2e' });
    cleanups.push(() => client.close());
    expect(await outcome(client.borrow('demo', { hours: 1, fingerprint: 'erin-laptop' }))).toBe('BORROW_NOT_ALLOWED');
  });
});
