// Authorized-user (named-user) licenses end to end, as a vendor and a
// sysadmin meet them: the key center entitles and activates an
// authorized-user key on the node's lock code, the admin imports it and names
// the users, and applications check seats out through the SDK. A named user
// gets a seat; anyone else gets NOT_AUTHORIZED_USER at once, with a message
// that says how to fix it (issue 12, B2 and the new user's complaint).
import { afterEach, describe, expect, it } from 'vitest';
import { connect, isFloeError, type FloeClient } from '../../client/index.ts';
import { loadNodeIdentity } from '../../daemon/identity/index.ts';
import { testKeyCenter } from '../../keycenter/key-center.test-support.ts';
import { formatVendorPublicKey } from '../../protocol/index.ts';
import { startTestDaemon, tempDir, type TestDaemon } from './test-daemon.test-support.ts';

const clients: FloeClient[] = [];
let daemon: TestDaemon | undefined;
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
  await daemon?.destroy();
  daemon = undefined;
});

/** An SDK client of `user` on `host`, closed after the test. */
async function clientOf(d: TestDaemon, user: string, host = `${user}-pc`): Promise<FloeClient> {
  const c = await connect({ servers: [d.clientUrl], user, host, app: 'cad-app', replyTimeoutMs: 5000 });
  clients.push(c);
  return c;
}

/** The FloeError code and message a checkout is refused with, or "granted". */
async function checkoutOutcome(c: FloeClient, options: { wait?: boolean } = {}): Promise<{ code: string; message: string }> {
  try {
    await c.checkout('cad', options.wait === true ? { wait: true, waitMs: 10_000 } : {});
    return { code: 'granted', message: '' };
  } catch (error) {
    if (isFloeError(error)) return { code: error.code, message: error.message };
    throw error;
  }
}

/** A node whose authorized-user key for `seats` users of cad 3 came from a key center. */
async function nodeWithNamedUserKey(seats: number): Promise<TestDaemon> {
  const { kc, vendorKey } = await testKeyCenter();
  const dataDir = tempDir('floe-named-users-');
  const [entitlement] = await kc.entitle({ product: 'cad', version: '3', model: 'authorized-user', seats });
  const issued = await kc.activate({ authCode: entitlement!.authCode, lockCodes: [loadNodeIdentity(dataDir).lockCode] });
  const d = await startTestDaemon({ vendorPublicKeys: [formatVendorPublicKey(vendorKey)] }, dataDir);
  daemon = d;
  expect(await d.admin('POST', '/licenses', { key: issued.keyText })).toMatchObject({ status: 201 });
  return d;
}

describe('an authorized-user license from the key center, used through the SDK', () => {
  it('a named user gets a seat; a user not on the list gets NOT_AUTHORIZED_USER at once, telling how to name users', async () => {
    const d = await nodeWithNamedUserKey(2);
    const alice = await clientOf(d, 'alice');
    const carol = await clientOf(d, 'carol');

    // Before anyone is named, nobody gets a seat, and the message says why.
    const unnamed = await checkoutOutcome(alice);
    expect(unnamed.code).toBe('NOT_AUTHORIZED_USER');
    expect(unnamed.message).toContain('alice is not a named user of cad');

    expect(await d.admin('PUT', '/pools/cad/users', { users: ['alice', 'bob'] })).toMatchObject({ status: 200, body: { users: ['alice', 'bob'], seatsTotal: 2 } });
    expect(await checkoutOutcome(alice)).toEqual({ code: 'granted', message: '' });

    // Waiting would not help carol: she is refused at once, never queued.
    const t0 = Date.now();
    const refused = await checkoutOutcome(carol, { wait: true });
    expect(refused.code).toBe('NOT_AUTHORIZED_USER');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(refused.message).toMatch(/^NOT_AUTHORIZED_USER: carol is not a named user of cad: .*floe users set --feature cad/);

    const pool = await d.admin('GET', '/pools/cad/users');
    expect(pool.body).toMatchObject({ users: ['alice', 'bob'], seatsTotal: 2, seatsInUse: 1 });
    const denials = ((await d.admin('GET', '/usage?feature=cad')).body as { kind: string; user: string; code?: string }[]).filter((r) => r.kind === 'denial');
    expect(denials.map((r) => r.user)).toContain('carol');
  });

  it('a named user is one seat however many times it checks out on its host; on a second host it gets HOSTS_PER_USER_REACHED', async () => {
    const d = await nodeWithNamedUserKey(2);
    expect((await d.admin('PUT', '/pools/cad/users', { users: ['alice'] })).status).toBe(200);
    const first = await clientOf(d, 'alice');
    const again = await clientOf(d, 'alice');
    expect(await checkoutOutcome(first)).toMatchObject({ code: 'granted' });
    expect(await checkoutOutcome(again)).toMatchObject({ code: 'granted' });
    expect((await d.admin('GET', '/pools/cad/users')).body).toMatchObject({ seatsInUse: 1 });
    const elsewhere = await clientOf(d, 'alice', 'alice-laptop');
    const refused = await checkoutOutcome(elsewhere);
    expect(refused.code).toBe('HOSTS_PER_USER_REACHED');
    expect(refused.message).toContain('alice already holds the seat of cad on 1 other host, the most the license allows');
  });
});
