// End to end: a real daemon on loopback, bare WebSocket clients, the seat
// protocol as a client application sees it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_BYTES_MAX } from '../../protocol/index.ts';
import { sleep, startTestDaemon, WireClient, type TestDaemon } from './test-daemon.test-support.ts';

let daemon: TestDaemon;
const clients: WireClient[] = [];

async function client(clientId: string, extra: Record<string, unknown> = {}): Promise<{ c: WireClient; sessionId: string; sessionSecret: string }> {
  const c = await WireClient.connect(daemon.clientUrl);
  clients.push(c);
  const hello = await c.hello(clientId, extra);
  expect(hello.ok).toBe(true);
  return { c, sessionId: hello.sessionId as string, sessionSecret: hello.sessionSecret as string };
}

async function freshFeature(seats: number): Promise<string> {
  const id = `LIC-${Math.random().toString(36).slice(2, 10)}`;
  const feature = `f${id.slice(4)}`;
  const { makeLicenseKey } = await import('./test-daemon.test-support.ts');
  const r = await daemon.admin('POST', '/licenses', { key: makeLicenseKey([daemon.lockCode], { seats, licenseId: id, product: feature }) });
  expect(r.status).toBe(201);
  return feature;
}

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await daemon.destroy();
});

describe('the seat protocol on a real daemon', () => {
  it('hello answers a session, the heartbeat interval, the lease ttl and the servers', async () => {
    const c = await WireClient.connect(daemon.clientUrl);
    clients.push(c);
    const hello = await c.hello('client-hello-1');
    expect(hello).toMatchObject({ ok: true, resumed: false, heartbeatMs: 500, leaseTtlMs: 2000, servers: [daemon.clientUrl], leases: [] });
    expect(typeof hello.sessionId).toBe('string');
  });

  it('checks seats out until NO_SEATS, and a checkin frees a seat', async () => {
    const feature = await freshFeature(2);
    const { c } = await client('client-nos-1');
    const a = await c.checkout('req-nos-a', { feature });
    const b = await c.checkout('req-nos-b', { feature });
    expect(a).toMatchObject({ ok: true, queued: false, feature, count: 1 });
    expect(b).toMatchObject({ ok: true, queued: false });
    const full = await c.checkout('req-nos-c', { feature });
    expect(full).toMatchObject({ ok: false, error: { code: 'NO_SEATS' } });
    expect(await c.checkin('req-nos-d', a.leaseId as string)).toMatchObject({ ok: true });
    const again = await c.checkout('req-nos-e', { feature });
    expect(again).toMatchObject({ ok: true, queued: false });
    const pools = await daemon.admin('GET', '/pools');
    expect(pools.body.find((p: any) => p.feature === feature)).toMatchObject({ seatsTotal: 2, seatsInUse: 2 });
  });

  it('grants queued waiters in FIFO order as seats come back, with queue and granted pushes', async () => {
    const feature = await freshFeature(1);
    const holder = await client('client-fifo-h');
    const held = await holder.c.checkout('req-fifo-h', { feature });
    expect(held.ok).toBe(true);
    const waiters = [];
    for (let i = 1; i <= 3; i++) {
      const w = await client(`client-fifo-${i}`);
      const r = await w.c.checkout(`req-fifo-${i}`, { feature, wait: true });
      expect(r).toMatchObject({ ok: true, queued: true, position: i });
      waiters.push(w);
    }
    const granted: string[] = [];
    // Each grant is followed by the grantee's checkin, which grants the next.
    expect(await holder.c.checkin('req-fifo-hc', held.leaseId as string)).toMatchObject({ ok: true });
    for (let i = 1; i <= 3; i++) {
      const w = waiters[i - 1]!;
      const g = await w.c.waitForPush((f) => f.type === 'granted' && f.requestId === `req-fifo-${i}`);
      granted.push(g.requestId as string);
      if (i < 3) {
        const next = waiters[i]!;
        // the next one moved to the head of the queue
        await next.c.waitForPush((f) => f.type === 'queue' && f.position === 1);
        expect(await w.c.checkin(`req-fifo-c${i}`, g.leaseId as string)).toMatchObject({ ok: true });
      }
    }
    expect(granted).toEqual(['req-fifo-1', 'req-fifo-2', 'req-fifo-3']);
  });

  it('a checkout retried with the same requestId returns the first answer and never takes a second seat', async () => {
    const feature = await freshFeature(3);
    const { c } = await client('client-retry-1');
    const first = await c.checkout('req-retry-1', { feature });
    const second = await c.checkout('req-retry-1', { feature });
    expect(second.leaseId).toBe(first.leaseId);
    // and after a reconnect, on a new connection and session
    await c.close();
    const again = await client('client-retry-1');
    const third = await again.c.checkout('req-retry-1', { feature });
    expect(third.leaseId).toBe(first.leaseId);
    const pool = (await daemon.admin('GET', '/pools')).body.find((p: any) => p.feature === feature);
    expect(pool.seatsInUse).toBe(1);
  });

  it('a client that stops heartbeating loses its seat after the lease ttl; one that heartbeats or reconnects within it keeps it', async () => {
    const feature = await freshFeature(3);
    const silent = await client('client-ttl-silent');
    const beating = await client('client-ttl-beating');
    const leaving = await client('client-ttl-leaving');
    const s = await silent.c.checkout('req-ttl-s', { feature });
    const b = await beating.c.checkout('req-ttl-b', { feature });
    const l = await leaving.c.checkout('req-ttl-l', { feature });
    expect(s.ok && b.ok && l.ok).toBe(true);
    await leaving.c.close();
    const started = Date.now();
    let resumed: Record<string, any> | undefined;
    while (Date.now() - started < 3200) {
      expect(await beating.c.request({ type: 'heartbeat' })).toMatchObject({ ok: true });
      if (resumed === undefined && Date.now() - started > 1200) {
        // reconnect within the ttl and resume the session
        const c2 = await WireClient.connect(daemon.clientUrl);
        clients.push(c2);
        resumed = await c2.hello('client-ttl-leaving', { sessionId: leaving.sessionId, sessionSecret: leaving.sessionSecret });
        expect(resumed).toMatchObject({ ok: true, resumed: true, sessionId: leaving.sessionId });
        expect(resumed.leases.map((x: any) => x.leaseId)).toEqual([l.leaseId]);
        leaving.c = c2;
      }
      if (resumed !== undefined) expect(await leaving.c.request({ type: 'heartbeat' })).toMatchObject({ ok: true });
      await sleep(400);
    }
    const leases = (await daemon.admin('GET', `/leases?feature=${feature}`)).body.map((x: any) => x.leaseId).sort();
    expect(leases).toEqual([b.leaseId, l.leaseId].sort());
    // The silent client's session is gone: its heartbeat says so.
    expect(await silent.c.request({ type: 'heartbeat' })).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
  });

  it('an admin force check-in frees the seat and pushes revoked to its holder', async () => {
    const feature = await freshFeature(1);
    const { c } = await client('client-force-1');
    const lease = await c.checkout('req-force-1', { feature });
    const r = await daemon.admin('DELETE', `/leases/${lease.leaseId}`, { reason: 'stuck seat' });
    expect(r).toMatchObject({ status: 200, body: { leaseId: lease.leaseId } });
    const pushed = await c.waitForPush((f) => f.type === 'revoked');
    expect(pushed).toMatchObject({ type: 'revoked', leaseId: lease.leaseId, feature, code: 'FORCE_CHECKIN' });
    expect(pushed.reason).toContain('stuck seat');
    expect((await daemon.admin('DELETE', `/leases/${lease.leaseId}`, {})).body.error.code).toBe('LEASE_NOT_FOUND');
  });

  it('malformed frames, unknown types, requests before hello and oversized frames get error codes and change nothing', async () => {
    const feature = await freshFeature(1);
    const before = (await daemon.admin('GET', '/pools')).body;
    const c = await WireClient.connect(daemon.clientUrl);
    clients.push(c);
    expect(await c.request({ type: 'checkout', requestId: 'req-early-1', feature })).toMatchObject({
      ok: false,
      error: { code: 'HELLO_REQUIRED' },
    });
    expect(await c.request({ type: 'teleport' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await c.request({ type: 'hello', protocol: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await c.request({ type: 'hello', protocol: 99, clientId: 'client-bad-1', user: 'u', host: 'h', app: 'a' })).toMatchObject({
      ok: false,
      error: { code: 'UNSUPPORTED_PROTOCOL' },
    });
    await c.hello('client-bad-1');
    expect(await c.checkout('req-bad-1', { feature, count: 0 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await c.checkout('req-bad-2', { feature, extra: true })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await c.checkout('req-bad-3', { feature: 'nope' })).toMatchObject({ ok: false, error: { code: 'UNKNOWN_FEATURE' } });
    expect(await c.checkin('req-bad-4', 'no-such-lease')).toMatchObject({ ok: false, error: { code: 'LEASE_NOT_FOUND' } });
    c.sendRaw('{not json');
    c.sendRaw(Buffer.from([1, 2, 3]));
    await expect.poll(() => c.orphanReplies.map((f) => f.error.code), { timeout: 5_000 }).toEqual(['BAD_REQUEST', 'BAD_REQUEST']);
    // one frame past the limit closes the socket with 1009
    c.sendRaw(JSON.stringify({ id: 99, type: 'status', pad: 'x'.repeat(FRAME_BYTES_MAX) }));
    expect(await c.whenClosed()).toBe(1009);
    // This test's pool only: earlier tests' short leases may expire meanwhile.
    const poolOf = (pools: any[]) => pools.find((p) => p.feature === feature);
    const after = (await daemon.admin('GET', '/pools')).body;
    expect(poolOf(after)).toEqual(poolOf(before));
  });

  it('the admin API refuses a missing token (401) and a wrong one (403), changing nothing', async () => {
    // The features: seat counts of earlier tests' pools may move meanwhile (their 2 s leases expire).
    const features = async () => (await daemon.admin('GET', '/pools')).body.map((p: any) => p.feature).sort();
    const before = await features();
    const { makeLicenseKey } = await import('./test-daemon.test-support.ts');
    const key = makeLicenseKey([daemon.lockCode], { seats: 5, licenseId: 'LIC-NOAUTH', product: 'noauth' });
    expect(await daemon.admin('POST', '/licenses', { key }, null)).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
    expect(await daemon.admin('POST', '/licenses', { key }, 'not-the-token')).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await daemon.admin('GET', '/leases', undefined, 'not-the-token')).toMatchObject({ status: 403 });
    expect(await features()).toEqual(before);
    expect(await daemon.admin('GET', '/health', undefined, null)).toMatchObject({ status: 200, body: { status: 'ok', role: 'leader' } });
  });

  it('a connection that sends faster than its rate limit gets RATE_LIMITED, to each request’s id', async () => {
    const { c } = await client('client-rate-1');
    // The burst (400) plus a few: those over it are answered, unread, RATE_LIMITED (a handful more would close it: untrusted-client-port).
    const replies = await Promise.all(Array.from({ length: 450 }, () => c.request({ type: 'status' })));
    const limited = replies.filter((r) => r.ok === false && r.error.code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThan(0);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThanOrEqual(400);
    expect(c.closeCode).toBeUndefined();
  });
});
