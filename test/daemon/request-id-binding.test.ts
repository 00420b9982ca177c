// Finding 8 of issue 11 over the wire: a requestId answers one request only.
// A different request under a remembered requestId is refused with
// REQUEST_ID_REUSED and changes nothing; a faithful retry gets the first answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
let c: WireClient;

beforeAll(async () => {
  daemon = await startTestDaemon();
  await daemon.installDemoLicense(5);
  c = await WireClient.connect(daemon.clientUrl);
  expect(await c.hello('client-binding-1')).toMatchObject({ ok: true });
});

afterAll(async () => {
  await c.close();
  await daemon.destroy();
});

const inUse = async () => (await daemon.admin('GET', '/pools')).body.find((p: any) => p.feature === 'demo').seatsInUse as number;

describe('finding 8 (issue 11): requests are bound to their requestId', () => {
  it('a checkin reusing a checkout’s requestId answers REQUEST_ID_REUSED and frees nothing', async () => {
    const lease = await c.checkout('req-bind-co-1');
    expect(lease).toMatchObject({ ok: true, queued: false });
    expect(await c.checkin('req-bind-co-1', lease.leaseId)).toMatchObject({ ok: false, error: { code: 'REQUEST_ID_REUSED' } });
    expect(await inUse()).toBe(1);
    expect(await c.checkin('req-bind-ci-1', lease.leaseId)).toMatchObject({ ok: true });
    expect(await inUse()).toBe(0);
  });

  it('a checkout reusing a requestId with another count answers REQUEST_ID_REUSED, not the old grant; the same request gets it', async () => {
    const first = await c.checkout('req-bind-co-2', { count: 1 });
    expect(first).toMatchObject({ ok: true, queued: false, count: 1 });
    expect(await c.checkout('req-bind-co-2', { count: 3 })).toMatchObject({ ok: false, error: { code: 'REQUEST_ID_REUSED' } });
    expect(await c.checkout('req-bind-co-2', { count: 1 })).toMatchObject({ ok: true, leaseId: first.leaseId });
    expect(await inUse()).toBe(1);
  });
});
