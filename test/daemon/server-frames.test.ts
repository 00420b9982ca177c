// The server frame schemas of protocol/wire.ts are the one home of what a
// server sends (issue 19): the SDK reads every frame with them. This checks
// them against a real daemon: each kind of reply and push it sends conforms,
// field for field, with nothing undeclared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  borrowReplySchema,
  checkoutReplySchema,
  heartbeatReplySchema,
  helloReplySchema,
  returnReplySchema,
  serverPushSchema,
  serverReplySchema,
  statusReplySchema,
} from '../../protocol/index.ts';
import { makeLicenseKey, startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
const clients: WireClient[] = [];

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await daemon.destroy();
});

async function connect(): Promise<WireClient> {
  const c = await WireClient.connect(daemon.clientUrl);
  clients.push(c);
  return c;
}

/** Expects `frame` to be a reply (`id`, `ok`) whose body is exactly what `body` declares. */
function expectReply(frame: Record<string, unknown>, body?: z.ZodType): void {
  expect(serverReplySchema.safeParse(frame).success, JSON.stringify(frame)).toBe(true);
  if (body === undefined) return;
  const { id: _id, ok: _ok, ...fields } = frame;
  const parsed = body.safeParse(fields);
  expect(parsed.error, JSON.stringify(frame)).toBeUndefined();
  // The schemas strip what they do not declare: equal means nothing undeclared was sent.
  expect(parsed.data).toEqual(fields);
}

/** Expects `frame` to be a push that is exactly what serverPushSchema declares for its type. */
function expectPush(frame: Record<string, unknown>): void {
  const parsed = serverPushSchema.safeParse(frame);
  expect(parsed.error, JSON.stringify(frame)).toBeUndefined();
  expect(parsed.data).toEqual(frame);
}

describe("a daemon's frames conform to protocol/wire.ts's server frame schemas", () => {
  it('hello (new and resumed), checkout (granted and queued), heartbeat, status, checkin, an error, and the granted, queue and revoked pushes', async () => {
    const feature = 'fframes';
    const key = makeLicenseKey([daemon.lockCode], { seats: 1, licenseId: 'LIC-FRAMES', product: feature });
    expect((await daemon.admin('POST', '/licenses', { key })).status).toBe(201);

    const a = await connect();
    const hello = await a.hello('client-frames-a');
    expectReply(hello, helloReplySchema);
    const held = await a.checkout('req-frames-a1', { feature });
    expectReply(held, checkoutReplySchema);
    expectReply(await a.request({ type: 'heartbeat' }), heartbeatReplySchema);
    expectReply(await a.request({ type: 'status' }), statusReplySchema);
    expectReply(await a.checkout('req-frames-a2', { feature: 'nothing-here' }));

    const b = await connect();
    expectReply(await b.hello('client-frames-b'), helloReplySchema);
    const queued = await b.checkout('req-frames-b1', { feature, wait: true });
    expect(queued).toMatchObject({ ok: true, queued: true });
    expectReply(queued, checkoutReplySchema);
    const c = await connect();
    const helloC = await c.hello('client-frames-c');
    expectReply(helloC, helloReplySchema);
    expect(await c.checkout('req-frames-c1', { feature, wait: true })).toMatchObject({ ok: true, queued: true, position: 2 });

    expectReply(await a.checkin('req-frames-a3', held.leaseId as string), undefined);
    const granted = await b.waitForPush((f) => f.type === 'granted');
    expectPush(granted);
    expectPush(await c.waitForPush((f) => f.type === 'queue'));
    expect((await daemon.admin('DELETE', `/leases/${granted.leaseId}`, { reason: 'frames test' })).status).toBe(200);
    expectPush(await b.waitForPush((f) => f.type === 'revoked'));

    // c is granted the freed seat, then resumes its session on another socket, which lists the lease.
    expectPush(await c.waitForPush((f) => f.type === 'granted'));
    const c2 = await connect();
    const resumed = await c2.hello('client-frames-c', { sessionId: helloC.sessionId, sessionSecret: helloC.sessionSecret });
    expect(resumed).toMatchObject({ ok: true, resumed: true, leases: [{ feature }] });
    expectReply(resumed, helloReplySchema);
  });

  it("a borrow's reply (the lease, its token and the key) and a return's (the lease id), with nothing undeclared", async () => {
    const feature = 'fborrow';
    const key = makeLicenseKey([daemon.lockCode], { seats: 1, licenseId: 'LIC-FRAMES-BORROW', product: feature, borrowAllowed: true, borrowHoursMax: 24 });
    expect((await daemon.admin('POST', '/licenses', { key })).status).toBe(201);

    const d = await connect();
    expectReply(await d.hello('client-frames-d'), helloReplySchema);
    const lent = await d.request({ type: 'borrow', requestId: 'req-frames-d1', feature, hours: 2, fingerprint: 'frames-laptop' });
    expect(lent).toMatchObject({ ok: true, feature });
    expectReply(lent, borrowReplySchema);
    const back = await d.request({ type: 'return', requestId: 'req-frames-d2', token: lent.token });
    expect(back).toMatchObject({ ok: true, leaseId: lent.leaseId });
    expectReply(back, returnReplySchema);
  });
});
