// Over the wire: a checkout retried with the same requestId gets its first
// answer even when the license check would now refuse the feature.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeLicenseKey, startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
beforeAll(async () => {
  daemon = await startTestDaemon();
});
afterAll(async () => {
  await daemon.destroy();
});

it('a retried checkout gets its first grant while the key has lost its majority; a new one is refused', async () => {
  // A redundant key naming this server and two that never come up: its majority is lost.
  const r = await daemon.admin('POST', '/licenses', { key: makeLicenseKey([daemon.lockCode, 'LOCK-GONE-1', 'LOCK-GONE-2'], { seats: 5 }) });
  expect(r.status).toBe(201);
  const c = await WireClient.connect(daemon.clientUrl);
  try {
    const hello = await c.hello('client-wire');
    // Granted while the key's servers were up (written straight into the log); its reply was lost.
    const first = await daemon.node.propose({
      type: 'checkout',
      sessionId: hello.sessionId,
      requestId: 'req-wire-1',
      feature: 'demo',
      count: 1,
      wait: false,
      leaseTtlMs: 60_000,
      waitMs: 0,
    });
    if (!first.reply.ok || first.reply.type !== 'granted') throw new Error(`setup: ${JSON.stringify(first.reply)}`);
    expect(await c.checkout('req-wire-1')).toMatchObject({ ok: true, leaseId: first.reply.lease.leaseId });
    expect(await c.checkout('req-wire-2')).toMatchObject({ ok: false, error: { code: 'LICENSE_QUORUM_LOST' } });
  } finally {
    await c.close();
  }
});
