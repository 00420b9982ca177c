// Finding 2 of issue 11 over the wire: one client could block a 25-seat pool
// for 24 h with `{"count":1000,"wait":true,"waitMs":86400000}` (queued at the
// head of the FIFO; everyone else got NO_SEATS while 0/25 were in use). A
// checkout no pool could ever grant is now refused at once, the wait is
// capped, and so are a session's queue places.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
const clients: WireClient[] = [];

beforeAll(async () => {
  daemon = await startTestDaemon({ queueWaitMsMax: 600_000, limits: { queuedPerSessionMax: 2 } });
  await daemon.installDemoLicense(25);
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await daemon.destroy();
});

async function client(clientId: string): Promise<WireClient> {
  const c = await WireClient.connect(daemon.clientUrl);
  clients.push(c);
  expect(await c.hello(clientId)).toMatchObject({ ok: true });
  return c;
}

const pool = async () => (await daemon.admin('GET', '/pools')).body.find((p: any) => p.feature === 'demo');

describe('finding 2 (issue 11): queues that cannot be filled are refused', () => {
  it('the 24-hour checkout of 1,000 of 25 seats is refused at once, and the next client gets a seat', async () => {
    const hog = await client('client-hog-1');
    const attack = await hog.checkout('req-hog-1', { count: 1000, wait: true, waitMs: 86_400_000 });
    expect(attack).toMatchObject({ ok: false, error: { code: 'DURATION_INVALID' } });
    const big = await hog.checkout('req-hog-2', { count: 1000, wait: true, waitMs: 60_000 });
    expect(big).toMatchObject({ ok: false, error: { code: 'COUNT_EXCEEDS_SEATS' } });
    expect(big.error.message).toContain('asks 1000 of 25 seats');
    expect(await pool()).toMatchObject({ seatsInUse: 0, queued: 0 });
    const next = await client('client-after-hog-1');
    expect(await next.checkout('req-after-hog-1')).toMatchObject({ ok: true, queued: false });
    expect(await next.checkout('req-after-hog-2', { count: 24 })).toMatchObject({ ok: true, queued: false });
  });

  it('a session holds at most queuedPerSessionMax queue places', async () => {
    const waiter = await client('client-waiter-1');
    expect(await waiter.checkout('req-wait-1', { wait: true })).toMatchObject({ ok: true, queued: true });
    expect(await waiter.checkout('req-wait-2', { wait: true })).toMatchObject({ ok: true, queued: true });
    expect(await waiter.checkout('req-wait-3', { wait: true })).toMatchObject({ ok: false, error: { code: 'QUEUED_PER_SESSION_LIMIT_REACHED' } });
    expect(await pool()).toMatchObject({ seatsInUse: 25, queued: 2 });
  });
});
