// The SDK against a scripted fake server: sessions, checkouts, typed errors,
// heartbeats, queueing, revocation and close(). Failover has its own file.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeCluster, FakeServer, WAIT } from './fake-server.test-support.ts';
import { connectTestClient } from './test-client.test-support.ts';
import { connect, FloeClient, FloeError, type ConnectOptions, type QueueEvent, type RevokedEvent } from './index.ts';

const started: FakeServer[] = [];
const clients: FloeClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function startServer(cluster = new FakeCluster()): Promise<FakeServer> {
  const server = await FakeServer.start(cluster);
  started.push(server);
  return server;
}

async function open(servers: readonly string[], options: Partial<ConnectOptions> = {}): Promise<FloeClient> {
  const client = await connectTestClient(servers, options);
  clients.push(client);
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<FloeError> {
  const err = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FloeError);
  return err as FloeError;
}

describe('FloeClient', () => {
  it('connect() opens a session and checkout() resolves with the granted lease', async () => {
    const server = await startServer();
    const client = await open([server.url], { clientId: 'client-0001' });
    expect(client.connected).toBe(true);
    expect(client.sessionId).toMatch(/^S/);
    const hello = server.frames('hello')[0];
    expect(hello).toMatchObject({ type: 'hello', protocol: 1, clientId: 'client-0001', user: 'alice', host: 'ws-17', app: 'stats' });
    expect(hello).not.toHaveProperty('sessionId');

    const lease = await client.checkout('demo');
    expect(lease).toMatchObject({ feature: 'demo', version: '1', count: 1 });
    expect(lease.expiresAt).toBeGreaterThan(Date.now());
    expect(client.leases()).toEqual([lease]);
    expect(server.frames('checkout')[0]).toMatchObject({ feature: 'demo', count: 1, wait: false, requestId: lease.requestId });

    await client.checkin(lease);
    expect(client.leases()).toEqual([]);
    expect(server.cluster.seatsInUse('demo')).toBe(0);
  });

  it('checkout() rejects with a FloeError carrying NO_SEATS when the pool is exhausted', async () => {
    const server = await startServer();
    const client = await open([server.url]);
    await client.checkout('demo');
    const err = await rejection(client.checkout('demo'));
    expect(err.code).toBe('NO_SEATS');
    expect(err.name).toBe('FloeError');
  });

  it('checkout() rejects with UNKNOWN_FEATURE for a feature no license grants', async () => {
    const server = await startServer();
    const client = await open([server.url]);
    expect((await rejection(client.checkout('nothing'))).code).toBe('UNKNOWN_FEATURE');
  });

  it('checkout() rejects invalid input with BAD_REQUEST without sending anything', async () => {
    const server = await startServer();
    const client = await open([server.url]);
    expect((await rejection(client.checkout('bad feature!'))).code).toBe('BAD_REQUEST');
    expect((await rejection(client.checkout('demo', { count: 0 }))).code).toBe('BAD_REQUEST');
    expect((await rejection(client.checkout('demo', { version: 'v1' }))).code).toBe('BAD_REQUEST');
    expect(server.frames('checkout')).toEqual([]);
  });

  it('checkin() of an unknown lease rejects with LEASE_NOT_FOUND', async () => {
    const server = await startServer();
    const client = await open([server.url]);
    expect((await rejection(client.checkin('no-such-lease'))).code).toBe('LEASE_NOT_FOUND');
  });

  it("sends heartbeats at the server's heartbeatMs", async () => {
    const cluster = new FakeCluster();
    cluster.heartbeatMs = 40;
    const server = await startServer(cluster);
    const client = await open([server.url]);
    expect(client.heartbeatMs).toBe(40);
    const since = Date.now();
    // Five beats come within a fraction of a second at 40 ms (never at the SDK's default); a loaded machine may take longer.
    await vi.waitFor(() => expect(server.frames('heartbeat').length).toBeGreaterThanOrEqual(5), { timeout: 5_000, interval: 10 });
    const beats = server.frames('heartbeat').length;
    const elapsedMs = Date.now() - since;
    // Never faster than one every 40 ms.
    expect(beats).toBeLessThanOrEqual(Math.ceil(elapsedMs / 40) + 1);
  });

  it('heartbeat replies move the leases’ deadlines forward', async () => {
    const cluster = new FakeCluster();
    cluster.heartbeatMs = 20;
    const server = await startServer(cluster);
    const client = await open([server.url]);
    const lease = await client.checkout('demo');
    await vi.waitFor(() => expect((client.leases()[0]?.expiresAt ?? 0) > lease.expiresAt).toBe(true), WAIT);
  });

  it('a queued checkout emits queue events and resolves on the granted push', async () => {
    const server = await startServer();
    const holder = await open([server.url]);
    const waiter = await open([server.url]);
    const held = await holder.checkout('demo');

    const queueEvents: QueueEvent[] = [];
    waiter.on('queue', (e) => queueEvents.push(e));
    const granted: string[] = [];
    waiter.on('granted', (lease) => granted.push(lease.leaseId));
    const pending = waiter.checkout('demo', { wait: true, waitMs: 5_000 });
    await vi.waitFor(() => expect(queueEvents.length === 1).toBe(true), WAIT);
    expect(queueEvents[0]).toMatchObject({ feature: 'demo', position: 1 });

    await holder.checkin(held);
    const lease = await pending;
    expect(lease.feature).toBe('demo');
    expect(granted).toEqual([lease.leaseId]);
    expect(waiter.leases()).toEqual([lease]);
  });

  it('a queue-timeout push rejects the queued checkout with its code', async () => {
    const server = await startServer();
    const holder = await open([server.url]);
    const waiter = await open([server.url]);
    await holder.checkout('demo');
    const pending = waiter.checkout('demo', { wait: true });
    await vi.waitFor(() => expect(server.frames('checkout').length === 2).toBe(true), WAIT);
    const { requestId } = server.frames('checkout')[1]!;
    await vi.waitFor(() => expect(server.cluster.queues.get('demo')?.length === 1).toBe(true), WAIT);
    server.pushAll({ type: 'queue-timeout', requestId, feature: 'demo', error: { code: 'QUEUE_TIMEOUT', message: 'waited 5000 ms' } });
    expect((await rejection(pending)).code).toBe('QUEUE_TIMEOUT');
  });

  it('aborting a queued checkout rejects it with ABORTED and cancels it on the server', async () => {
    const server = await startServer();
    const holder = await open([server.url]);
    const waiter = await open([server.url]);
    await holder.checkout('demo');
    const abort = new AbortController();
    const queued = new Promise<void>((resolve) => waiter.once('queue', () => resolve()));
    const pending = waiter.checkout('demo', { wait: true, signal: abort.signal });
    await queued;
    abort.abort();
    expect((await rejection(pending)).code).toBe('ABORTED');
    await vi.waitFor(() => expect(server.frames('cancel').length === 1).toBe(true), WAIT);
    expect(server.frames('cancel')[0]!.requestId).toBe(server.frames('checkout')[1]!.requestId);
    await vi.waitFor(() => expect(server.cluster.queues.get('demo')?.length === 0).toBe(true), WAIT);
  });

  it('a grant that arrives after its checkout was aborted is checked in again', async () => {
    const server = await startServer();
    const client = await open([server.url]);
    server.script = (f) => (f.type === 'checkout' ? { kind: 'delay', delayMs: 50 } : undefined);
    const abort = new AbortController();
    const pending = client.checkout('demo', { signal: abort.signal });
    await vi.waitFor(() => expect(server.frames('checkout').length === 1).toBe(true), WAIT);
    abort.abort();
    expect((await rejection(pending)).code).toBe('ABORTED');
    await vi.waitFor(() => expect(server.frames('checkin').length === 1).toBe(true), WAIT);
    await vi.waitFor(() => expect(server.cluster.seatsInUse('demo') === 0).toBe(true), WAIT);
    // The client lists the seat until the checkin's reply, a turn after the server frees it.
    await vi.waitFor(() => expect(client.leases().length === 0).toBe(true), WAIT);
    expect(client.leases()).toEqual([]);
  });

  it('a revoked push emits revoked and forgets the lease', async () => {
    const server = await startServer();
    const client = await open([server.url]);
    const lease = await client.checkout('demo');
    const revoked = new Promise<RevokedEvent>((resolve) => client.once('revoked', resolve));
    server.pushAll({ type: 'revoked', leaseId: lease.leaseId, feature: 'demo', reason: 'An admin freed the seat: maintenance', code: 'FORCE_CHECKIN' });
    const event = await revoked;
    expect(event).toMatchObject({ leaseId: lease.leaseId, feature: 'demo', reason: 'An admin freed the seat: maintenance', code: 'FORCE_CHECKIN', lease });
    expect(client.leases()).toEqual([]);
  });

  it('status() returns the server’s status reply', async () => {
    const server = await startServer();
    const client = await open([server.url]);
    expect(await client.status()).toMatchObject({ ok: true, sessions: 1 });
  });

  it('more pending calls than pendingRequestsMax reject with PENDING_LIMIT_REACHED', async () => {
    const server = await startServer();
    const client = await open([server.url], { pendingRequestsMax: 2 });
    server.script = (f) => (f.type === 'checkout' ? { kind: 'ignore' } : undefined);
    const a = rejection(client.checkout('demo'));
    const b = rejection(client.checkout('demo'));
    expect((await rejection(client.checkout('demo'))).code).toBe('PENDING_LIMIT_REACHED');
    await client.close();
    expect((await a).code).toBe('CLOSED');
    expect((await b).code).toBe('CLOSED');
  });

  it('close() rejects pending calls with CLOSED and stops every timer and socket', async () => {
    const cluster = new FakeCluster();
    cluster.heartbeatMs = 10;
    const server = await startServer(cluster);
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const client = await open([server.url]);
    const holder = await client.checkout('demo');
    const queued = rejection(client.checkout('demo', { wait: true, waitMs: 60_000 }));
    await vi.waitFor(() => expect(server.frames('heartbeat').length >= 2).toBe(true), WAIT);
    const events: string[] = [];
    client.on('disconnected', () => events.push('disconnected'));
    client.on('closed', () => events.push('closed'));

    await client.close();
    expect((await queued).code).toBe('CLOSED');
    expect(events).toEqual(['disconnected', 'closed']);
    expect(client.connected).toBe(false);
    await vi.waitFor(() => expect(server.socketCount === 0).toBe(true), WAIT);
    const beats = server.frames('heartbeat').length;
    await new Promise((r) => setTimeout(r, 50));
    expect(server.frames('heartbeat').length).toBe(beats);
    // close() checks in nothing by default: the seat stays held until its ttl.
    expect(server.frames('checkin')).toEqual([]);
    expect(server.cluster.seatsInUse('demo')).toBe(holder.count);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(timersBefore);
    expect((await rejection(client.checkout('demo'))).code).toBe('CLOSED');
    await client.close(); // idempotent
  });

  it('close({ checkin: true }) checks in every held lease first', async () => {
    const cluster = new FakeCluster();
    cluster.seats.set('demo', 3);
    const server = await startServer(cluster);
    const client = await open([server.url]);
    await client.checkout('demo');
    await client.checkout('demo', { count: 2 });
    await client.close({ checkin: true });
    expect(server.frames('checkin')).toHaveLength(2);
    expect(server.cluster.seatsInUse('demo')).toBe(0);
  });

  it('connect() rejects with SERVERS_UNREACHABLE when no server answers', async () => {
    const server = await startServer();
    const url = server.url;
    await server.stop();
    started.splice(started.indexOf(server), 1);
    const err = await rejection(
      connect({ servers: [url], user: 'a', host: 'h', app: 'x', reconnectAttemptsMax: 3, backoffBaseMs: 1, backoffMaxMs: 5 }),
    );
    expect(err.code).toBe('SERVERS_UNREACHABLE');
  });

  it('connect() rejects with the server’s code when the hello is refused for good', async () => {
    const server = await startServer();
    server.script = (f) => (f.type === 'hello' ? { kind: 'error', code: 'UNSUPPORTED_PROTOCOL' } : undefined);
    const err = await rejection(connect({ servers: [server.url], user: 'a', host: 'h', app: 'x' }));
    expect(err.code).toBe('UNSUPPORTED_PROTOCOL');
    await vi.waitFor(() => expect(server.socketCount === 0).toBe(true), WAIT);
  });
});
