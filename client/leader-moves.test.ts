// Sessions move to the leader the servers name (hello's `leader`, the
// `leader` push), against fake nodes that share one fake cluster state.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeCluster, FakeServer, WAIT } from './fake-server.test-support.ts';
import { connectTestClient } from './test-client.test-support.ts';
import type { ConnectOptions, DisconnectedEvent, FloeClient, FloeError, MovedEvent } from './index.ts';

const started: FakeServer[] = [];
const clients: FloeClient[] = [];
const refusing: Server[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(started.splice(0).map((s) => s.stop()));
  for (const server of refusing.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** Two fake nodes; `b` leads. */
async function startCluster(): Promise<[FakeServer, FakeServer]> {
  const cluster = new FakeCluster();
  cluster.heartbeatMs = 25;
  const a = await FakeServer.start(cluster);
  const b = await FakeServer.start(cluster);
  cluster.servers = [a.url, b.url];
  cluster.leader = b.url;
  started.push(a, b);
  return [a, b];
}

/** A client and what it told its application. */
async function open(servers: readonly string[], options: Partial<ConnectOptions> = {}) {
  const client = await connectTestClient(servers, options);
  clients.push(client);
  const seen = { moved: [] as MovedEvent[], disconnected: [] as DisconnectedEvent[], errors: [] as FloeError[] };
  client.on('moved', (e) => seen.moved.push(e));
  client.on('disconnected', (e) => seen.disconnected.push(e));
  client.on('error', (e) => seen.errors.push(e));
  return { client, seen };
}

/** A port that accepts TCP connections and cuts them at once (a leader URL unreachable from this client); counts them. */
async function startRefusingPort(): Promise<{ url: string; accepted(): number }> {
  let accepted = 0;
  const server = createServer((socket: Socket) => {
    accepted += 1;
    socket.destroy();
  });
  refusing.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { url: `ws://127.0.0.1:${address.port}/ws`, accepted: () => accepted };
}

describe('FloeClient prefers the leader', () => {
  it('moves a session opened on a follower to the leader, its lease still held, without a disconnect', async () => {
    const [a, b] = await startCluster();
    // One configured URL: the leader is learnt from hello.
    const { client, seen } = await open([a.url]);
    const sessionId = client.sessionId;
    const lease = await client.checkout('demo');
    await vi.waitFor(() => expect(client.server).toBe(b.url), WAIT);
    expect(seen.moved).toEqual([{ from: a.url, to: b.url, sessionId }]);
    expect(b.frames('hello')[0]).toMatchObject({ sessionId, clientId: client.clientId });
    expect(client.sessionId).toBe(sessionId);
    expect(client.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
    expect(b.cluster.seatsInUse('demo')).toBe(1);
    await vi.waitFor(() => expect(a.socketCount).toBe(0), WAIT);
    await vi.waitFor(() => expect(b.frames('heartbeat').length > 0).toBe(true), WAIT);
    await client.checkin(lease);
    expect(b.frames('checkin')).toHaveLength(1);
    expect(b.cluster.seatsInUse('demo')).toBe(0);
    expect(seen.disconnected).toEqual([]);
    expect(seen.errors).toEqual([]);
  });

  it('lets a call in flight on the follower finish there before it moves: one seat, one send', async () => {
    const [a, b] = await startCluster();
    a.cluster.leader = undefined; // no leader named at connect
    let leaderHelloAnswered!: () => void;
    const gate = new Promise<void>((resolve) => (leaderHelloAnswered = resolve));
    b.script = (f) => {
      if (f.type === 'hello') setTimeout(leaderHelloAnswered, 0); // just after its reply went out
      return undefined;
    };
    a.script = (f) => {
      if (f.type !== 'checkout') return undefined;
      // Leadership is announced while the checkout is served here; its reply waits for the move's hello.
      a.pushAll({ type: 'leader', leader: b.url });
      return { kind: 'until', until: gate };
    };
    const { client, seen } = await open([a.url, b.url]);
    const moved = new Promise<MovedEvent>((resolve) => client.once('moved', resolve));
    const lease = await client.checkout('demo');
    expect(await moved).toMatchObject({ from: a.url, to: b.url });
    expect(a.frames('checkout')).toHaveLength(1);
    expect(b.frames('checkout')).toHaveLength(0);
    expect(b.cluster.seatsInUse('demo')).toBe(1);
    expect(client.server).toBe(b.url);
    expect(client.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
    await client.checkin(lease);
    expect(b.frames('checkin')).toHaveLength(1);
    expect(seen.errors).toEqual([]);
    expect(seen.disconnected).toEqual([]);
  });

  it('follows the leader when leadership moves', async () => {
    const [a, b] = await startCluster();
    const { client, seen } = await open([a.url, b.url]);
    const lease = await client.checkout('demo');
    await vi.waitFor(() => expect(client.server).toBe(b.url), WAIT);
    b.cluster.leader = a.url;
    b.pushAll({ type: 'leader', leader: a.url });
    await vi.waitFor(() => expect(client.server).toBe(a.url), WAIT);
    expect(seen.moved.map((e) => e.to)).toEqual([b.url, a.url]);
    expect(client.leases().map((l) => l.leaseId)).toEqual([lease.leaseId]);
    await client.checkin(lease);
    expect(a.cluster.seatsInUse('demo')).toBe(0);
    expect(seen.disconnected).toEqual([]);
  });

  it('stays on the server it connected to with preferLeader: false', async () => {
    const [a, b] = await startCluster();
    const stays = await open([a.url], { preferLeader: false });
    // A client with the default connected at the same time: once it moved, the other would have too.
    const moves = await open([a.url]);
    await vi.waitFor(() => expect(moves.client.server).toBe(b.url), WAIT);
    a.pushAll({ type: 'leader', leader: b.url });
    const lease = await stays.client.checkout('demo');
    await stays.client.checkin(lease);
    expect(stays.client.server).toBe(a.url);
    expect(stays.seen.moved).toEqual([]);
    expect(b.frames('hello').filter((f) => f.clientId === stays.client.clientId)).toEqual([]);
  });

  it('keeps working where it is when the leader URL cannot be reached, trying it again only after a backoff', async () => {
    const [a] = await startCluster();
    const unreachable = await startRefusingPort();
    a.cluster.servers = [a.url, unreachable.url];
    a.cluster.leader = unreachable.url;
    const { client, seen } = await open([a.url]);
    await vi.waitFor(() => expect(unreachable.accepted()).toBe(1), WAIT);
    for (let i = 0; i < 5; i++) {
      const lease = await client.checkout('demo');
      await client.checkin(lease);
    }
    // Ten heartbeat rounds later it has not hammered the unreachable URL.
    const beats = a.frames('heartbeat').length;
    await vi.waitFor(() => expect(a.frames('heartbeat').length).toBeGreaterThanOrEqual(beats + 10), WAIT);
    expect(unreachable.accepted()).toBeLessThanOrEqual(2);
    expect(client.server).toBe(a.url);
    expect(client.connected).toBe(true);
    expect(seen.disconnected).toEqual([]);
    expect(seen.errors).toEqual([]);
  });

  it('stays where it is against servers that name no leader (older servers)', async () => {
    const [a, b] = await startCluster();
    a.cluster.leader = undefined;
    const { client } = await open([a.url, b.url]);
    const lease = await client.checkout('demo');
    await client.checkin(lease);
    expect(client.server).toBe(a.url);
    expect(b.frames('hello')).toEqual([]);
  });
});
