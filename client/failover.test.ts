// Failover, resume and idempotent retry, against two fake nodes that share
// one fake cluster state (sessions, seats, remembered results).
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeCluster, FakeServer, WAIT } from './fake-server.test-support.ts';
import { connectTestClient } from './test-client.test-support.ts';
import { FloeClient, FloeError, type ClosedEvent, type ConnectedEvent, type ConnectOptions, type DisconnectedEvent, type RevokedEvent } from './index.ts';

const started: FakeServer[] = [];
const clients: FloeClient[] = [];
const hung: { server: Server; sockets: Socket[] }[] = [];

afterEach(async () => {
  for (const { server, sockets } of hung.splice(0)) {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => server.close(resolve));
  }
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

async function startCluster(): Promise<[FakeServer, FakeServer]> {
  const cluster = new FakeCluster();
  cluster.heartbeatMs = 25;
  const a = await FakeServer.start(cluster);
  const b = await FakeServer.start(cluster);
  started.push(a, b);
  return [a, b];
}

async function open(servers: readonly string[], options: Partial<ConnectOptions> = {}): Promise<FloeClient> {
  const client = await connectTestClient(servers, options);
  clients.push(client);
  return client;
}

function nextConnected(client: FloeClient): Promise<ConnectedEvent> {
  return new Promise((resolve) => client.once('connected', resolve));
}

/**
 * A server whose process is frozen (SIGSTOP, a paused VM): its kernel still
 * accepts TCP connections, but no WebSocket handshake is ever answered.
 * `sockets` are the connections it accepted; `closedByClient` counts those the client gave up.
 */
async function startHungServer(): Promise<{ url: string; sockets: Socket[]; closedByClient(): number }> {
  const sockets: Socket[] = [];
  let closed = 0;
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('close', () => (closed += 1));
    socket.resume(); // read (and drop) the handshake, so the client's FIN is seen
  });
  hung.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `ws://127.0.0.1:${address.port}`, sockets, closedByClient: () => closed };
}

describe('FloeClient failover', () => {
  it('resumes its session on the second server when the first dies, keeping its leases', async () => {
    const [a, b] = await startCluster();
    const client = await open([a.url, b.url]);
    const sessionId = client.sessionId;
    const lease = await client.checkout('demo');
    const disconnected = new Promise((resolve) => client.once('disconnected', resolve));
    const reconnected = nextConnected(client);
    await a.stop();
    expect(await disconnected).toMatchObject({ server: a.url, willReconnect: true });
    expect(await reconnected).toEqual({ server: b.url, sessionId, resumed: true });
    expect(b.frames('hello')[0]).toMatchObject({ sessionId, clientId: client.clientId });
    expect(client.server).toBe(b.url);
    expect(client.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
    await vi.waitFor(() => expect(b.frames('heartbeat').length > 0).toBe(true), WAIT);
    await client.checkin(lease);
    expect(b.cluster.seatsInUse('demo')).toBe(0);
  });

  it('re-sends a checkout whose reply was lost with the same requestId, taking a single seat', async () => {
    const [a, b] = await startCluster();
    a.script = (f) => (f.type === 'checkout' ? { kind: 'apply-then-drop' } : undefined);
    const client = await open([a.url, b.url]);
    const lease = await client.checkout('demo');
    const [first] = a.frames('checkout');
    const [retry] = b.frames('checkout');
    expect(retry?.requestId).toBe(first?.requestId);
    expect(lease.requestId).toBe(first?.requestId);
    expect(b.cluster.seatsInUse('demo')).toBe(1);
    // The one lease (a heartbeat on a slow machine may have moved its expiresAt since).
    expect(client.leases()).toEqual([{ ...lease, expiresAt: expect.any(Number) }]);
  });

  it('retries a checkout answered UNAVAILABLE on another server', async () => {
    const [a, b] = await startCluster();
    a.script = (f) => (f.type === 'checkout' ? { kind: 'error', code: 'UNAVAILABLE' } : undefined);
    const client = await open([a.url, b.url]);
    const lease = await client.checkout('demo');
    expect(a.frames('checkout')).toHaveLength(1);
    expect(b.frames('checkout')).toHaveLength(1);
    expect(b.frames('checkout')[0]!.requestId).toBe(a.frames('checkout')[0]!.requestId);
    expect(b.frames('hello')[0]!.sessionId).toBe(client.sessionId);
    expect(client.server).toBe(b.url);
    expect(lease.feature).toBe('demo');
  });

  it('fails over when a request goes unanswered longer than replyTimeoutMs', async () => {
    const [a, b] = await startCluster();
    a.script = (f) => (f.type === 'checkout' ? { kind: 'ignore' } : undefined);
    const client = await open([a.url, b.url], { replyTimeoutMs: 100 });
    const lease = await client.checkout('demo');
    expect(client.server).toBe(b.url);
    expect(b.frames('checkout')[0]!.requestId).toBe(lease.requestId);
    expect(a.frames('checkout')[0]!.requestId).toBe(lease.requestId);
  });

  it('fails over from a frozen server (socket open, nothing answered) long before replyTimeoutMs', async () => {
    const [a, b] = await startCluster();
    const client = await open([a.url, b.url], { replyTimeoutMs: 60_000, pingAfterMs: 50, pongTimeoutMs: 100 });
    await client.checkout('demo').then((l) => client.checkin(l));
    a.freeze();
    const disconnected = new Promise<DisconnectedEvent>((resolve) => client.once('disconnected', resolve));
    const startedMs = performance.now();
    const lease = await client.checkout('demo');
    // Without the ping, 60 s of replyTimeoutMs would be the only way out (the test times out first).
    expect(performance.now() - startedMs).toBeLessThan(10_000);
    expect(client.server).toBe(b.url);
    expect(await disconnected).toMatchObject({ server: a.url, willReconnect: true, reason: expect.stringMatching(/no answer to a ping/) });
    expect(b.frames('checkout').at(-1)!.requestId).toBe(lease.requestId);
    expect(b.cluster.seatsInUse('demo')).toBe(1);
    a.thaw();
  });

  it('keeps a slow server that answers its ping: a reply later than pongTimeoutMs is waited for', async () => {
    const [a, b] = await startCluster();
    a.script = (f) => (f.type === 'checkout' ? { kind: 'delay', delayMs: 400 } : undefined);
    const client = await open([a.url, b.url], { pingAfterMs: 20, pongTimeoutMs: 50 });
    const lease = await client.checkout('demo');
    expect(client.server).toBe(a.url);
    expect(b.frames('hello')).toHaveLength(0);
    expect(lease.feature).toBe('demo');
  });

  it.each(['RATE_LIMITED', 'INTERNAL'])('retries a request answered %s after a backoff with the same requestId', async (code) => {
    const [a] = await startCluster();
    let limited = false;
    a.script = (f) => {
      if (f.type !== 'checkout' || limited) return undefined;
      limited = true;
      return { kind: 'error', code };
    };
    const client = await open([a.url]);
    const lease = await client.checkout('demo');
    const frames = a.frames('checkout');
    expect(frames).toHaveLength(2);
    expect(frames[1]!.requestId).toBe(frames[0]!.requestId);
    expect(lease.requestId).toBe(frames[0]!.requestId);
  });

  it('opens its session on the next server while the first hangs in its opening handshake, and gives that one up', { timeout: 20_000 }, async () => {
    const frozen = await startHungServer();
    const [, b] = await startCluster();
    // Waiting out connectTimeoutMs (60 s here) would outlast the test.
    const client = await open([frozen.url, b.url], { connectTimeoutMs: 60_000 });
    expect(client.server).toBe(b.url);
    expect(frozen.sockets).toHaveLength(1);
    await vi.waitFor(() => expect(frozen.closedByClient()).toBe(1), WAIT);
    const lease = await client.checkout('demo');
    expect(b.cluster.seatsInUse('demo')).toBe(1);
    await client.checkin(lease);
  });

  it('reconnects past a frozen server to a live one when its server dies, keeping its session', { timeout: 20_000 }, async () => {
    const frozen = await startHungServer();
    const [a, b] = await startCluster();
    const client = await open([a.url, frozen.url, b.url], { connectTimeoutMs: 60_000 });
    const sessionId = client.sessionId;
    const lease = await client.checkout('demo');
    const reconnected = nextConnected(client);
    await a.stop();
    expect(await reconnected).toEqual({ server: b.url, sessionId, resumed: true });
    expect(client.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
  });

  it('closes at once while reconnecting with a socket still opening to a frozen server', { timeout: 20_000 }, async () => {
    const frozen = await startHungServer();
    const [a] = await startCluster();
    const client = await open([a.url, frozen.url], { connectTimeoutMs: 60_000 });
    const disconnected = new Promise((resolve) => client.once('disconnected', resolve));
    await a.stop();
    await disconnected;
    await vi.waitFor(() => expect(frozen.sockets).toHaveLength(1), WAIT);
    // close() waits for every socket it opened: the frozen one is given up, not waited out.
    await client.close();
    await vi.waitFor(() => expect(frozen.closedByClient()).toBe(1), WAIT);
  });

  it('fails over to a server it learnt from the hello reply', async () => {
    const [a, b] = await startCluster();
    a.cluster.servers = [a.url, b.url];
    const client = await open([a.url]);
    expect(client.servers).toEqual([a.url, b.url]);
    const reconnected = nextConnected(client);
    await a.stop();
    expect((await reconnected).server).toBe(b.url);
  });

  it('adopts the membership a hello reply lists: a removed server leaves the list and is not dialed, an added one joins', async () => {
    const [a, b] = await startCluster();
    const c = await FakeServer.start(a.cluster);
    const d = await FakeServer.start(a.cluster);
    started.push(c, d);
    a.cluster.servers = [a.url, b.url, c.url];
    const client = await open([a.url]);
    expect(client.servers).toEqual([a.url, b.url, c.url]);
    // `floe cluster remove` c (its process still answers), `floe cluster add` d.
    a.cluster.servers = [a.url, b.url, d.url];
    let reconnected = nextConnected(client);
    a.dropAll();
    expect((await reconnected).server).toBe(b.url);
    expect(client.servers).toEqual([a.url, b.url, d.url]);
    reconnected = nextConnected(client);
    b.dropAll();
    expect((await reconnected).server).toBe(d.url);
    expect(c.frames('hello')).toHaveLength(0);
  });

  it('keeps the server it is connected to although its hello no longer lists it, and drops it after leaving it', async () => {
    const [a, b] = await startCluster();
    const c = await FakeServer.start(a.cluster);
    started.push(c);
    a.cluster.servers = [a.url, c.url];
    const client = await open([a.url]);
    a.cluster.servers = [a.url, b.url]; // c removed, b added
    let reconnected = nextConnected(client);
    a.dropAll();
    expect((await reconnected).server).toBe(c.url);
    expect(client.servers).toEqual([a.url, b.url, c.url]);
    reconnected = nextConnected(client);
    c.dropAll();
    expect((await reconnected).server).toBe(a.url);
    expect(client.servers).toEqual([a.url, b.url]);
  });

  it('keeps the configured servers whatever hello lists, and what it learnt when a hello lists none', async () => {
    const [a, b] = await startCluster();
    const c = await FakeServer.start(a.cluster);
    started.push(c);
    a.cluster.servers = [a.url, b.url];
    const client = await open([a.url, c.url]);
    expect(client.servers).toEqual([a.url, c.url, b.url]);
    a.cluster.servers = [];
    const reconnected = nextConnected(client);
    a.dropAll();
    expect((await reconnected).server).toBe(c.url);
    expect(client.servers).toEqual([a.url, c.url, b.url]);
  });

  it('recovers a grant pushed while it was disconnected by re-sending the queued checkout', async () => {
    const [a, b] = await startCluster();
    const holder = await open([b.url]);
    const held = await holder.checkout('demo');
    const waiter = await open([a.url, b.url]);
    const queued = new Promise<void>((resolve) => waiter.once('queue', () => resolve()));
    const pending = waiter.checkout('demo', { wait: true, waitMs: 10_000 });
    await queued;
    // Hold B's hello back so the grant is pushed while the waiter has no socket.
    b.script = (f) => (f.type === 'hello' ? { kind: 'delay', delayMs: 150 } : undefined);
    await a.stop();
    await vi.waitFor(() => expect(b.frames('hello').length === 2).toBe(true), WAIT);
    await holder.checkin(held);
    const lease = await pending;
    const retries = b.frames('checkout').filter((f) => f.requestId === lease.requestId);
    expect(retries).toHaveLength(1);
    expect(b.cluster.seatsInUse('demo')).toBe(1);
    expect(waiter.leases()).toEqual([lease]);
  });

  it('reports the leases of a session the server lost as revoked with code SESSION_LOST', async () => {
    const [a, b] = await startCluster();
    const client = await open([a.url, b.url]);
    const lease = await client.checkout('demo');
    const oldSessionId = client.sessionId!;
    const revoked = new Promise<RevokedEvent>((resolve) => client.once('revoked', resolve));
    const reconnected = nextConnected(client);
    a.cluster.sessions.delete(oldSessionId);
    a.dropAll();
    expect(await revoked).toMatchObject({ leaseId: lease.leaseId, code: 'SESSION_LOST' });
    const event = await reconnected;
    expect(event.resumed).toBe(false);
    expect(event.sessionId).not.toBe(oldSessionId);
    expect(client.leases()).toEqual([]);
  });

  it('reports a lease a resumed session no longer lists as revoked with code LEASE_LOST', async () => {
    const [a, b] = await startCluster();
    const client = await open([a.url, b.url]);
    const kept = await client.checkout('demo');
    a.cluster.seats.set('demo', 2);
    const lost = await client.checkout('demo');
    const revoked = new Promise<RevokedEvent>((resolve) => client.once('revoked', resolve));
    a.cluster.sessions.get(client.sessionId!)!.leases.delete(lost.leaseId);
    a.dropAll();
    expect(await revoked).toMatchObject({ leaseId: lost.leaseId, code: 'LEASE_LOST' });
    expect(client.leases().map((l) => l.leaseId)).toEqual([kept.leaseId]);
  });

  it('moves a checkout refused with LICENSE_NOT_FOR_THIS_SERVER to the next server, same requestId, keeping the seats it holds', async () => {
    const [a, b] = await startCluster();
    a.cluster.seats.set('cad', 1);
    a.script = (f) => (f.type === 'checkout' && f.feature === 'cad' ? { kind: 'error', code: 'LICENSE_NOT_FOR_THIS_SERVER' } : undefined);
    const client = await open([a.url, b.url]);
    const held = await client.checkout('demo');
    const disconnected = new Promise<DisconnectedEvent>((resolve) => client.once('disconnected', resolve));
    const reconnected = nextConnected(client);
    const lease = await client.checkout('cad');
    expect(lease.feature).toBe('cad');
    const [refused] = a.frames('checkout').filter((f) => f.feature === 'cad');
    expect(b.frames('checkout').map((f) => f.requestId)).toEqual([refused!.requestId]);
    expect(lease.requestId).toBe(refused!.requestId);
    expect((await disconnected).reason).toContain('LICENSE_NOT_FOR_THIS_SERVER');
    expect(await reconnected).toMatchObject({ server: b.url, resumed: true });
    expect(client.server).toBe(b.url);
    expect(client.leases().map((l) => l.leaseId).sort()).toEqual([held.leaseId, lease.leaseId].sort());
    expect(b.cluster.seatsInUse('demo')).toBe(1);
  });

  it('rejects a checkout with LICENSE_QUORUM_LOST once every server refused it, asking each once', async () => {
    const cluster = new FakeCluster();
    cluster.heartbeatMs = 25;
    cluster.seats.set('cad', 1);
    const servers = await Promise.all([0, 1, 2].map(() => FakeServer.start(cluster)));
    started.push(...servers);
    for (const s of servers) s.script = (f) => (f.type === 'checkout' && f.feature === 'cad' ? { kind: 'error', code: 'LICENSE_QUORUM_LOST' } : undefined);
    const client = await open(servers.map((s) => s.url));
    const err = await client.checkout('cad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FloeError);
    expect((err as FloeError).code).toBe('LICENSE_QUORUM_LOST');
    const asked = servers.map((s) => s.frames('checkout').map((f) => f.requestId));
    expect(asked.map((ids) => ids.length)).toEqual([1, 1, 1]);
    expect(new Set(asked.flat()).size).toBe(1);
    // The client carries on (a feature the servers may serve is granted).
    expect((await client.checkout('demo')).feature).toBe('demo');
  });

  it('does not count moves to another server for the license as re-sends of the checkout', async () => {
    const cluster = new FakeCluster();
    cluster.heartbeatMs = 25;
    cluster.seats.set('cad', 1);
    const servers = await Promise.all([0, 1, 2].map(() => FakeServer.start(cluster)));
    started.push(...servers);
    const [a, b, c] = servers as [FakeServer, FakeServer, FakeServer];
    a.script = (f) => (f.type === 'checkout' ? { kind: 'error', code: 'LICENSE_NOT_FOR_THIS_SERVER' } : undefined);
    b.script = (f) => (f.type === 'checkout' ? { kind: 'error', code: 'LICENSE_QUORUM_LOST' } : undefined);
    const client = await open([a.url, b.url, c.url], { requestSendsMax: 1 });
    const lease = await client.checkout('cad');
    expect(client.server).toBe(c.url);
    expect(servers.map((s) => s.frames('checkout').map((f) => f.requestId))).toEqual([[lease.requestId], [lease.requestId], [lease.requestId]]);
  });

  it('still counts the re-send of a checkout whose reply was lost after a move for the license', async () => {
    const [a, b] = await startCluster();
    a.cluster.seats.set('cad', 1);
    // a refuses the first send; after that every send is lost (the socket drops).
    a.script = (f) => (f.type !== 'checkout' ? undefined : a.frames('checkout').length === 1 ? { kind: 'error', code: 'LICENSE_NOT_FOR_THIS_SERVER' } : { kind: 'drop' });
    b.script = (f) => (f.type === 'checkout' ? { kind: 'drop' } : undefined);
    const client = await open([a.url, b.url], { requestSendsMax: 2 });
    const err = await client.checkout('cad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FloeError);
    expect((err as FloeError).code).toBe('RETRIES_EXHAUSTED');
    // a refused (not counted), b lost it (send 1), a lost it after the reconnect (send 2), then no third send.
    expect(a.frames('checkout')).toHaveLength(2);
    expect(b.frames('checkout')).toHaveLength(1);
  });

  it('gives up after reconnectAttemptsMax failed attempts and closes with SERVERS_UNREACHABLE', async () => {
    const [a] = await startCluster();
    a.script = (f) => (f.type === 'checkout' ? { kind: 'ignore' } : undefined);
    const client = await open([a.url], { reconnectAttemptsMax: 3 });
    const pending = client.checkout('demo').catch((e: unknown) => e);
    await vi.waitFor(() => expect(a.frames('checkout').length === 1).toBe(true), WAIT);
    const closed = new Promise<ClosedEvent>((resolve) => client.once('closed', resolve));
    await a.stop();
    expect((await closed).error?.code).toBe('SERVERS_UNREACHABLE');
    const err = await pending;
    expect(err).toBeInstanceOf(FloeError);
    expect((err as FloeError).code).toBe('CLOSED');
  });
});
