import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { Message } from '../raft/types.ts';
import { encodeFrame } from './message-codec.ts';
import { createNonce, decodeHandshake, encodeHandshake, handshakeTranscript, toPrivateKeyObject } from './peer-auth.ts';
import { PeerTransport } from './peer-transport.ts';
import { RecordingLogger, TestCluster, appendMessage, heartbeat, testKeyPair, testLockCode, type TestKeyPair, WAIT } from './transport-kit.test-support.ts';
import { sign } from 'node:crypto';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

async function cluster(ids: string[], options: Parameters<typeof TestCluster.start>[1] = {}): Promise<TestCluster> {
  const c = await TestCluster.start(ids, options);
  stops.push(() => c.stop());
  return c;
}

/** A raw WebSocket to a transport, recording what it receives and how it was closed. */
async function rawClient(port: number): Promise<{ ws: WebSocket; texts: string[]; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/raft`);
  const texts: string[] = [];
  ws.on('message', (data) => texts.push(String(data)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('error', () => {});
  await new Promise((resolve) => ws.once('open', resolve));
  await vi.waitFor(() => expect(texts.length > 0, 'challenge').toBe(true), { ...WAIT, timeout: 2000 });
  stops.push(async () => ws.terminate());
  return { ws, texts, closed };
}

/** The hello a dialer holding `keys` would answer `challengeText` with. */
function helloFor(challengeText: string, dialerId: string, keys: TestKeyPair): string {
  const challenge = decodeHandshake(challengeText, 'challenge');
  if (challenge === undefined) throw new Error('no challenge');
  const nonce = createNonce();
  const transcript = handshakeTranscript('dialer', dialerId, challenge.nodeId, challenge.nonce, nonce, '');
  const signature = new Uint8Array(sign(null, transcript, toPrivateKeyObject(keys.privateKey)));
  return encodeHandshake({ type: 'hello', nodeId: dialerId, peerId: challenge.nodeId, nonce, lockCode: '', signature });
}

/** A one-node cluster whose n1 also lists a peer "n2" that only the test (holding its keys) speaks for. */
async function clusterWithScriptedPeer(limits: Parameters<typeof TestCluster.start>[1] = {}): Promise<{ c: TestCluster; keys: TestKeyPair }> {
  const c = await cluster(['n1'], limits);
  const keys = testKeyPair();
  await c.node('n1').transport.updatePeers([...c.peers(), { id: 'n2', url: 'ws://127.0.0.1:9/raft', publicKey: keys.publicKey }]);
  return { c, keys };
}

/** A self-signed certificate for 127.0.0.1 (100 years), for the wss:// test only. */
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBjzCCATagAwIBAgIUdnfjgGQQR5XYq4Np78l7E1l1k/QwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJZmxvZS10ZXN0MCAXDTI2MTEyODAwNTYxM1oYDzIxMjYxMTA0
MDA1NjEzWjAUMRIwEAYDVQQDDAlmbG9lLXRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARW6NWvHzJQfLx42ETgQB0+Laxn7fJ6OS254qdCf4V+JmCDYv8+V4rp
wH+OcOG2A4WxEGmdMjMjWezywU86J3gGo2QwYjAdBgNVHQ4EFgQUaf73ONRYeu26
2Cu76UsYyyDmeL0wHwYDVR0jBBgwFoAUaf73ONRYeu262Cu76UsYyyDmeL0wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0cAMEQC
IEe5IcT6uLYnFCpSK6gByS5w4t0zLRkx5n/bOkWtF2l2AiBTYCsIcA4Z18s/NYLG
g3d1+JOjvXc3v7zlGcACN/8ngw==
-----END CERTIFICATE-----`;
const TEST_CERT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgg3mJ38ENSLgx29Kj
bES3knWUVn+MTo67tGhIrJEx4JyhRANCAARW6NWvHzJQfLx42ETgQB0+Laxn7fJ6
OS254qdCf4V+JmCDYv8+V4rpwH+OcOG2A4WxEGmdMjMjWezywU86J3gG
-----END PRIVATE KEY-----`;

/**
 * A peer listener that completes the handshake as "n2" and never answers a
 * ping (autoPong off): a peer whose process is alive only as far as the
 * handshake. Listening on a free loopback port; the caller closes it.
 */
async function silentListener(): Promise<{ keys: ReturnType<typeof testKeyPair>; server: ReturnType<typeof createServer>; wss: WebSocketServer }> {
  const keys = testKeyPair();
  const server = createServer();
  const wss = new WebSocketServer({ server, autoPong: false });
  wss.on('connection', (ws) => {
    const nonce = createNonce();
    ws.send(encodeHandshake({ type: 'challenge', version: 2, nodeId: 'n2', nonce }));
    ws.once('message', (data) => {
      const hello = decodeHandshake(String(data), 'hello');
      if (hello === undefined) return;
      const transcript = handshakeTranscript('listener', hello.nodeId, 'n2', nonce, hello.nonce, '');
      ws.send(encodeHandshake({ type: 'welcome', lockCode: '', signature: new Uint8Array(sign(null, transcript, keys.privateKey)) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { keys, server, wss };
}

describe('PeerTransport', () => {
  it('three transports exchange batches of messages, each delivered once and in order', async () => {
    const c = await cluster(['n1', 'n2', 'n3']);
    await c.connected();
    for (const from of ['n1', 'n2', 'n3']) {
      const batch: Message[] = [];
      for (const to of ['n1', 'n2', 'n3']) {
        if (to === from) continue;
        for (let i = 0; i < 20; i++) batch.push(heartbeat(from, to, i));
        batch.push(appendMessage(from, to, 100, 10, 50));
      }
      c.node(from).transport.send(batch);
    }
    await vi.waitFor(() => expect(['n1', 'n2', 'n3'].every((id) => c.node(id).inbox.length === 42), 'all messages').toBe(true), { ...WAIT, timeout: 5000 });
    const n1 = c.node('n1').inbox;
    expect(n1.filter((m) => m.from === 'n2').map((m) => (m.type === 'heartbeat' ? m.commit : m.type))).toEqual([...Array.from({ length: 20 }, (_, i) => i), 'app']);
    expect(n1.find((m) => m.type === 'app')).toEqual(appendMessage('n2', 'n1', 100, 10, 50));
  });

  it('carries app payloads beside Raft messages, batched per turn, and refuses them at once to an unknown peer', async () => {
    const c = await cluster(['n1', 'n2']);
    await c.connected();
    const got: { from: string; payloads: string[] }[] = [];
    c.node('n2').transport.onApp((from, payloads) => got.push({ from, payloads: payloads.map((p) => new TextDecoder().decode(p)) }));
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(c.node('n1').transport.sendApp('n2', enc('a'))).toBe(true);
    expect(c.node('n1').transport.sendApp('n2', enc('b'))).toBe(true);
    c.node('n1').transport.send([heartbeat('n1', 'n2', 1)]);
    expect(c.node('n1').transport.sendApp('n9', enc('x'))).toBe(false);
    await vi.waitFor(() => expect(got.length > 0 && c.node('n2').inbox.length > 0).toBe(true), WAIT);
    expect(got).toEqual([{ from: 'n1', payloads: ['a', 'b'] }]);
    expect(c.node('n1').transport.stats().peers['n2']?.sentAppPayloads).toBe(2);
  });

  it('sends everything queued in one event-loop turn as one frame per peer', async () => {
    const c = await cluster(['n1', 'n2']);
    await c.connected();
    const n1 = c.node('n1').transport;
    for (let i = 0; i < 100; i++) n1.send([heartbeat('n1', 'n2', i)]);
    await vi.waitFor(() => expect(c.node('n2').inbox.length === 100).toBe(true), WAIT);
    expect(n1.stats().peers['n2']).toMatchObject({ sentMessages: 100, sentFrames: 1 });
    expect(c.node('n2').transport.stats().peers['n1']).toMatchObject({ receivedMessages: 100, receivedFrames: 1 });
  });

  it('refuses a node that signs with the wrong key, and nothing it sends reaches the handler', async () => {
    const c = await cluster(['n1', 'n2']);
    await c.connected();
    const logger = new RecordingLogger();
    // An imposter claims to be n2 but does not hold n2's key.
    const imposter = new PeerTransport({
      nodeId: 'n2',
      listen: { host: '127.0.0.1', port: 0 },
      identity: testKeyPair(),
      peers: [{ id: 'n1', url: `ws://127.0.0.1:${c.node('n1').port}/raft`, publicKey: c.node('n1').keys.publicKey }],
      logger,
    });
    stops.push(() => imposter.stop());
    await imposter.start();
    imposter.send([heartbeat('n2', 'n1', 999)]);
    await vi.waitFor(() => expect((c.node('n1').transport.stats().refused.AUTH_SIGNATURE_INVALID ?? 0) >= 1).toBe(true), WAIT);
    expect(c.node('n1').logger.refusals()).toContain('AUTH_SIGNATURE_INVALID');
    expect(imposter.stats().peers['n1']?.connected).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(c.node('n1').inbox).toEqual([]);
    // The real n2 is still connected and its messages still arrive.
    c.node('n2').transport.send([heartbeat('n2', 'n1', 1)]);
    await vi.waitFor(() => expect(c.node('n1').inbox.length === 1).toBe(true), WAIT);
    expect(c.node('n1').inbox).toEqual([heartbeat('n2', 'n1', 1)]);
  });

  it('refuses a dialer whose node id is not in the peers list', async () => {
    const c = await cluster(['n1']);
    const stranger = new PeerTransport({
      nodeId: 'n9',
      listen: { host: '127.0.0.1', port: 0 },
      identity: testKeyPair(),
      peers: [{ id: 'n1', url: `ws://127.0.0.1:${c.node('n1').port}/raft`, publicKey: c.node('n1').keys.publicKey }],
      logger: new RecordingLogger(),
    });
    stops.push(() => stranger.stop());
    await stranger.start();
    await vi.waitFor(() => expect((c.node('n1').transport.stats().refused.AUTH_UNKNOWN_NODE ?? 0) >= 1).toBe(true), WAIT);
  });

  it('a dialer refuses a listener that cannot prove it is the peer configured for that url', async () => {
    const c = await cluster(['n1', 'n2']);
    const logger = new RecordingLogger();
    // n3 is told n1 lives at n2's address: the listener there answers as "n2".
    const n3 = new PeerTransport({
      nodeId: 'n3',
      listen: { host: '127.0.0.1', port: 0 },
      identity: testKeyPair(),
      peers: [{ id: 'n1', url: `ws://127.0.0.1:${c.node('n2').port}/raft`, publicKey: c.node('n1').keys.publicKey }],
      logger,
    });
    stops.push(() => n3.stop());
    await n3.start();
    await vi.waitFor(() => expect((n3.stats().refused.AUTH_PEER_ID_MISMATCH ?? 0) >= 1).toBe(true), WAIT);
    // And a listener that says the right id but signs with another key than the one configured for it.
    const c2 = await cluster(['a', 'b']);
    await c2.connected();
    await c2.node('a').transport.updatePeers([
      ...c2.peers().filter((p) => p.id !== 'b'),
      { id: 'b', url: `ws://127.0.0.1:${c2.node('b').port}/raft`, publicKey: testKeyPair().publicKey },
    ]);
    const outboundRefusal = (): boolean =>
      c2.node('a').logger.lines.some((l) => l.fields['reason'] === 'AUTH_SIGNATURE_INVALID' && l.fields['direction'] === 'outbound');
    await vi.waitFor(() => expect(outboundRefusal(), 'a refusing b as listener').toBe(true), WAIT);
    expect(c2.node('a').transport.stats().peers['b']?.connected).toBe(false);
  });

  it('refuses a Raft frame sent before authentication, and nothing reaches the handler', async () => {
    const c = await cluster(['n1', 'n2']);
    const client = await rawClient(c.node('n1').port);
    client.ws.send(encodeFrame([heartbeat('n2', 'n1', 7)]));
    expect(await client.closed).toEqual({ code: 4403, reason: 'FRAME_BEFORE_AUTH' });
    expect(c.node('n1').transport.stats().refused.FRAME_BEFORE_AUTH).toBe(1);
    expect(c.node('n1').inbox).toEqual([]);
  });

  it('refuses a replayed handshake', async () => {
    const { c, keys } = await clusterWithScriptedPeer();
    const first = await rawClient(c.node('n1').port);
    const hello = helloFor(first.texts[0] ?? '', 'n2', keys);
    first.ws.send(hello);
    await vi.waitFor(() => expect(first.texts.length === 2, 'welcome').toBe(true), { ...WAIT, timeout: 2000 });
    expect(decodeHandshake(first.texts[1] ?? '', 'welcome')).toBeDefined();
    // The same hello on a new connection answers an old challenge.
    const second = await rawClient(c.node('n1').port);
    second.ws.send(hello);
    expect(await second.closed).toEqual({ code: 4401, reason: 'AUTH_SIGNATURE_INVALID' });
    // And a second hello on an authenticated connection is refused too.
    first.ws.send(hello);
    expect(await first.closed).toEqual({ code: 4400, reason: 'FRAME_UNEXPECTED' });
  });

  it('refuses malformed, misaddressed and oversized frames from an authenticated peer', async () => {
    const { c, keys } = await clusterWithScriptedPeer({ limits: { frameBytesMax: 64 * 1024 } });
    const port = c.node('n1').port;
    async function authenticated(): Promise<Awaited<ReturnType<typeof rawClient>>> {
      const client = await rawClient(port);
      client.ws.send(helloFor(client.texts[0] ?? '', 'n2', keys));
      await vi.waitFor(() => expect(client.texts.length === 2, 'welcome').toBe(true), { ...WAIT, timeout: 2000 });
      return client;
    }
    const garbage = await authenticated();
    garbage.ws.send(Uint8Array.from([1, 1, 99]));
    expect(await garbage.closed).toEqual({ code: 4422, reason: 'FRAME_INVALID' });
    const spoof = await authenticated();
    spoof.ws.send(encodeFrame([heartbeat('n2', 'n1', 1), heartbeat('n3', 'n1', 2)]));
    expect(await spoof.closed).toEqual({ code: 4422, reason: 'MESSAGE_ADDRESS_INVALID' });
    const big = await authenticated();
    big.ws.send(new Uint8Array(65 * 1024));
    expect((await big.closed).code).toBe(1009);
    const text = await authenticated();
    text.ws.send('{"type":"hello"}');
    expect(await text.closed).toEqual({ code: 4400, reason: 'FRAME_UNEXPECTED' });
    const junk = await rawClient(port);
    junk.ws.send('not json');
    expect(await junk.closed).toEqual({ code: 4400, reason: 'HANDSHAKE_MALFORMED' });
    expect(c.node('n1').inbox).toEqual([]);
    expect(c.node('n1').transport.stats().refused).toMatchObject({ FRAME_INVALID: 1, MESSAGE_ADDRESS_INVALID: 1, FRAME_TOO_LARGE: 1, FRAME_UNEXPECTED: 1, HANDSHAKE_MALFORMED: 1 });
  });

  it('counts every refusal but logs a flood of them only once a second', async () => {
    const c = await cluster(['n1']);
    for (let i = 0; i < 5; i++) {
      const client = await rawClient(c.node('n1').port);
      client.ws.send('garbage');
      await client.closed;
    }
    expect(c.node('n1').transport.stats().refused.HANDSHAKE_MALFORMED).toBe(5);
    expect(c.node('n1').logger.refusals()).toEqual(['HANDSHAKE_MALFORMED']);
  });

  it('cuts off an unauthenticated socket that sends more than a handshake needs', async () => {
    const c = await cluster(['n1']);
    const client = await rawClient(c.node('n1').port);
    client.ws.send('x'.repeat(1024 * 1024));
    expect((await client.closed).code).toBe(1006);
    expect(c.node('n1').transport.stats().refused.HANDSHAKE_TOO_LARGE).toBe(1);
  });

  it('refuses a connection that does not finish its handshake in time', async () => {
    const c = await cluster(['n1'], { limits: { handshakeTimeoutMs: 100 } });
    const client = await rawClient(c.node('n1').port);
    expect(await client.closed).toEqual({ code: 4408, reason: 'HANDSHAKE_TIMEOUT' });
  });

  it('reconnects automatically to a peer restarted on the same port, and messages flow again', async () => {
    const c = await cluster(['n1', 'n2']);
    await c.connected();
    const n2 = c.node('n2');
    await n2.transport.stop();
    await vi.waitFor(() => expect(c.node('n1').unreachable.includes('n2'), 'n2 reported unreachable').toBe(true), { ...WAIT, timeout: 2000 });
    c.node('n1').transport.send([heartbeat('n1', 'n2', 1)]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await c.startNode(n2, n2.port);
    await vi.waitFor(() => expect(n2.inbox.length >= 1, 'message after restart').toBe(true), { ...WAIT, timeout: 5000 });
    expect(n2.inbox).toEqual([heartbeat('n1', 'n2', 1)]);
    c.node('n1').transport.send([heartbeat('n1', 'n2', 2)]);
    await vi.waitFor(() => expect(n2.inbox.length === 2).toBe(true), WAIT);
    expect(c.node('n1').transport.stats().peers['n2']).toMatchObject({ connected: true, reconnects: 1 });
  });

  it("tells each survivor once a peer's connections close, and tells the peer that stopped nothing", async () => {
    const c = await cluster(['n1', 'n2', 'n3']);
    await c.connected();
    const lost = new Map<string, string[]>(['n1', 'n2', 'n3'].map((id) => [id, []]));
    for (const [id, peers] of lost) c.node(id).transport.onConnectionLost((peerId) => peers.push(peerId));
    await c.node('n2').transport.stop();
    await vi.waitFor(() => expect(lost.get('n1')!.includes('n2') && lost.get('n3')!.includes('n2'), 'n1 and n3 told n2 is gone').toBe(true), { ...WAIT, timeout: 3000 });
    expect(lost.get('n2')).toEqual([]);
    expect(lost.get('n1')!.every((peerId) => peerId === 'n2')).toBe(true);
    expect(lost.get('n3')!.every((peerId) => peerId === 'n2')).toBe(true);
  });

  it('a peer that dials in after a restart is dialed back at once, not after the reconnect backoff', async () => {
    // A backoff far longer than the test waits: only the inbound connection can wake n1's link.
    const c = await cluster(['n1', 'n2'], { limits: { reconnectDelayMsMin: 20_000, reconnectDelayMsMax: 20_000 } });
    await c.connected();
    const n2 = c.node('n2');
    await n2.transport.stop();
    await vi.waitFor(() => expect(c.node('n1').unreachable.includes('n2'), 'n2 reported unreachable').toBe(true), { ...WAIT, timeout: 2000 });
    await c.startNode(n2, n2.port);
    c.node('n1').transport.send([heartbeat('n1', 'n2', 7)]);
    await vi.waitFor(() => expect(n2.inbox.length >= 1, "n1's message to the restarted n2").toBe(true), { ...WAIT, timeout: 3000 });
    expect(n2.inbox).toEqual([heartbeat('n1', 'n2', 7)]);
  });

  it('notices a peer that stops answering pings, and reports it unreachable', async () => {
    // A listener that completes the handshake as n2, then never answers pings.
    const { keys, server, wss } = await silentListener();
    const c = await cluster(['n1']);
    stops.push(async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((resolve) => server.close(resolve));
    });
    const port = (server.address() as AddressInfo).port;
    const n1 = c.node('n1');
    await n1.transport.updatePeers([...c.peers(), { id: 'n2', url: `ws://127.0.0.1:${port}/raft`, publicKey: keys.publicKey }]);
    await vi.waitFor(() => expect(n1.transport.stats().peers['n2']?.connected === true, 'connected to the silent peer').toBe(true), { ...WAIT, timeout: 2000 });
    // After peerDeadAfterMs (1000) of silence, plus at most one pingIntervalMs (250); how soon is a figure
    // for a benchmark, not this test: the wait only bounds it, generously for a loaded machine.
    await vi.waitFor(() => expect(n1.unreachable.includes('n2'), 'unreachable').toBe(true), { ...WAIT, timeout: 10_000 });
  });

  it('keeps a peer whose frames keep coming though it answers no ping, and declares it dead once it falls silent while we still write to it', async () => {
    // "n2": a listener that completes the handshake and never answers a ping, and a dialer the test drives.
    const { keys, server, wss } = await silentListener();
    const c = await cluster(['n1']);
    const timers: NodeJS.Timeout[] = [];
    stops.push(async () => {
      for (const timer of timers) clearInterval(timer);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise((resolve) => server.close(resolve));
    });
    const port = (server.address() as AddressInfo).port;
    const n1 = c.node('n1');
    const lost: string[] = [];
    n1.transport.onConnectionLost((peerId) => lost.push(peerId));
    await n1.transport.updatePeers([...c.peers(), { id: 'n2', url: `ws://127.0.0.1:${port}/raft`, publicKey: keys.publicKey }]);
    await vi.waitFor(() => expect(n1.transport.stats().peers['n2']?.connected === true, 'connected to n2').toBe(true), { ...WAIT, timeout: 2000 });
    // Traffic both ways, as between a leader and its follower: n1 writes to n2, and n2's dialer writes to n1.
    const dialer = await rawClient(n1.port);
    dialer.ws.send(helloFor(dialer.texts[0]!, 'n2', keys));
    let commit = 0;
    timers.push(setInterval(() => n1.transport.send([heartbeat('n1', 'n2', ++commit)]), 20));
    const n2Writes = setInterval(() => dialer.ws.send(encodeFrame([heartbeat('n2', 'n1', commit)])), 20);
    timers.push(n2Writes);
    await vi.waitFor(() => expect(n1.inbox.length >= 5, "n2's frames reach n1").toBe(true), { ...WAIT, timeout: 2000 });
    // Longer than peerDeadAfterMs (1000 ms) without a pong: n2's frames show it alive.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(n1.unreachable).toEqual([]);
    expect(n1.transport.stats().peers['n2']?.connected).toBe(true);
    // n2 freezes: nothing more from it, while n1 keeps writing to it.
    clearInterval(n2Writes);
    await vi.waitFor(() => expect(n1.unreachable.includes('n2') && lost.includes('n2'), 'n2 declared dead').toBe(true), { ...WAIT, timeout: 4000 });
  });

  it('keeps a link that carries nothing either way (two followers) open, and notices its peer once it stops answering', async () => {
    const c = await cluster(['n1', 'n2', 'n3']);
    await c.connected();
    const lost = new Map<string, string[]>(['n1', 'n2', 'n3'].map((id) => [id, []]));
    for (const [id, peers] of lost) c.node(id).transport.onConnectionLost((peerId) => peers.push(peerId));
    // No Raft traffic at all for longer than peerDeadAfterMs + clockProbeIntervalMs (2 s): only the links' own pings.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const [id, peers] of lost) expect(peers, `connections ${id} lost`).toEqual([]);
    for (const id of ['n1', 'n2', 'n3']) {
      expect(c.node(id).unreachable, `peers ${id} found unreachable`).toEqual([]);
      for (const lock of c.node(id).transport.peerLockCodes().values()) expect(lock.connected).toBe(true);
    }
  });

  it('closes an inbound connection whose dialer falls silent, and tells the node the peer is lost', async () => {
    const { c, keys } = await clusterWithScriptedPeer();
    const n1 = c.node('n1');
    const lost: string[] = [];
    n1.transport.onConnectionLost((peerId) => lost.push(peerId));
    // "n2" dials n1, proves itself, and then sends nothing, not even a ping (a frozen process, a dead path).
    const dialer = await rawClient(n1.port);
    dialer.ws.send(helloFor(dialer.texts[0]!, 'n2', keys));
    await vi.waitFor(() => expect(dialer.texts.length >= 2, 'welcome').toBe(true), { ...WAIT, timeout: 2000 });
    // Within peerDeadAfterMs + clockProbeIntervalMs (2 s) plus a check; the wait only bounds it, generously for a loaded machine.
    await vi.waitFor(() => expect(lost.includes('n2'), 'n2 lost').toBe(true), { ...WAIT, timeout: 10_000 });
    await dialer.closed;
  });

  it('bounds the send queue of an unreachable peer, dropping and counting the oldest', async () => {
    const c = await cluster(['n1', 'n2'], { limits: { sendQueueMessagesMax: 10 } });
    await c.connected();
    const n2 = c.node('n2');
    await n2.transport.stop();
    await vi.waitFor(() => expect(c.node('n1').transport.stats().peers['n2']?.connected === false).toBe(true), WAIT);
    c.node('n1').transport.send(Array.from({ length: 25 }, (_, i) => heartbeat('n1', 'n2', i)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(c.node('n1').transport.stats().peers['n2']).toMatchObject({ queuedMessages: 10, droppedMessages: 15, dropped: { queueFull: 15 } });
    await c.startNode(n2, n2.port);
    await vi.waitFor(() => expect(n2.inbox.length === 10, 'the newest ten').toBe(true), { ...WAIT, timeout: 5000 });
    expect(n2.inbox.map((m) => (m.type === 'heartbeat' ? m.commit : -1))).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
  });

  it('bounds the send queue in bytes too', async () => {
    const c = await cluster(['n1', 'n2'], { limits: { sendQueueBytesMax: 50_000 } });
    await c.node('n2').transport.stop();
    c.node('n1').transport.send(Array.from({ length: 10 }, (_, i) => appendMessage('n1', 'n2', i, 100, 100)));
    const stats = c.node('n1').transport.stats().peers['n2'];
    expect(stats?.queuedBytes).toBeLessThanOrEqual(50_000);
    expect(stats?.dropped.queueFull).toBeGreaterThan(0);
    expect((stats?.queuedMessages ?? 0) + (stats?.dropped.queueFull ?? 0)).toBe(10);
  });

  it('stops writing to a peer whose socket buffer is full, counts the stall, and resumes when it drains', async () => {
    // 20 MB through a one-frame-at-a-time window: under load the event loop may stall past the 1 s
    // liveness limit, and a connection closed as dead loses what it carried (this test is about backpressure).
    const c = await cluster(['n1', 'n2'], { limits: { socketBufferedBytesMax: 1, frameBytesMax: 600_000, peerDeadAfterMs: 30_000 } });
    await c.connected();
    const n1 = c.node('n1').transport;
    n1.send(Array.from({ length: 40 }, (_, i) => appendMessage('n1', 'n2', i, 1, 500_000)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(n1.stats().peers['n2']?.queuedMessages).toBeGreaterThan(0);
    await vi.waitFor(() => expect(c.node('n2').inbox.length === 40, 'all 40 messages').toBe(true), { ...WAIT, timeout: 30_000 });
    expect(n1.stats().peers['n2']).toMatchObject({ sentMessages: 40, sentFrames: 40, droppedMessages: 0 });
    expect(n1.stats().peers['n2']?.backpressureStalls).toBeGreaterThan(0);
  }, 60_000);

  it('drops, counts and logs a message the peer would refuse instead of sending it', async () => {
    const c = await cluster(['n1', 'n2'], { limits: { frameBytesMax: 10_000, contextBytesMax: 8 } });
    await c.connected();
    const n1 = c.node('n1');
    n1.transport.send([appendMessage('n1', 'n2', 1, 1, 20_000), { type: 'heartbeat', from: 'n1', to: 'n2', term: 1, commit: 1, commitTerm: 0, context: 'much too long' }, heartbeat('n1', 'n2', 2)]);
    await vi.waitFor(() => expect(c.node('n2').inbox.length === 1).toBe(true), WAIT);
    expect(c.node('n2').inbox).toEqual([heartbeat('n1', 'n2', 2)]);
    expect(n1.transport.stats().peers['n2']?.dropped.oversized).toBe(2);
    expect(n1.logger.lines.filter((l) => l.level === 'warn' && l.event.startsWith('message dropped'))).toHaveLength(2);
    // The connection survived: nothing the peer refused was sent.
    expect(n1.transport.stats().peers['n2']?.connected).toBe(true);
  });

  it('reports for each snapshot message whether it was written or dropped', async () => {
    const c = await cluster(['n1', 'n2'], { limits: { frameBytesMax: 100_000 } });
    await c.connected();
    const statuses: [string, boolean][] = [];
    c.node('n1').transport.onSnapshotStatus((peerId, ok) => statuses.push([peerId, ok]));
    const snap = (bytes: number): Message => ({
      type: 'snap',
      from: 'n1',
      to: 'n2',
      term: 3,
      snapshot: { metadata: { index: 50, term: 3, confState: { voters: ['n1', 'n2'], learners: [] } }, data: new Uint8Array(bytes) },
    });
    c.node('n1').transport.send([snap(1000)]);
    await vi.waitFor(() => expect(statuses.length === 1).toBe(true), WAIT);
    expect(statuses).toEqual([['n2', true]]);
    // "Written" is reported when n1's socket took the frame, not when n2 read it.
    await vi.waitFor(() => expect(c.node('n2').inbox).toEqual([snap(1000)]), WAIT);
    c.node('n1').transport.send([snap(200_000)]);
    await vi.waitFor(() => expect(statuses.length === 2).toBe(true), WAIT);
    expect(statuses[1]).toEqual(['n2', false]);
  });

  it('each node learns the lock code its peers state in their signed handshakes, and whether they are connected now', async () => {
    const c = await cluster(['n1', 'n2', 'n3']);
    await c.connected();
    await vi.waitFor(() => expect([...c.node('n1').transport.peerLockCodes().values()].every((p) => p.lockCode !== undefined && p.connected)).toBe(true), WAIT);
    expect(c.node('n1').transport.peerLockCodes()).toEqual(
      new Map([
        ['n2', { lockCode: testLockCode('n2'), connected: true }],
        ['n3', { lockCode: testLockCode('n3'), connected: true }],
      ]),
    );
    await c.node('n3').transport.stop();
    await vi.waitFor(() => expect(c.node('n1').transport.peerLockCodes().get('n3')?.connected === false, 'n3 seen down').toBe(true), { ...WAIT, timeout: 5000 });
    // What it stated stays known; a removed peer is forgotten.
    expect(c.node('n1').transport.peerLockCodes().get('n3')).toEqual({ lockCode: testLockCode('n3'), connected: false });
    await c.node('n1').transport.updatePeers(c.peers().filter((p) => p.id !== 'n3'));
    expect([...c.node('n1').transport.peerLockCodes().keys()]).toEqual(['n2']);
  });

  it("measures each peer's wall clock against its own on the pings: a peer 5 s ahead shows +5,000 ms, give or take half a round trip", async () => {
    const c = await cluster(['n1', 'n2'], { wallClock: (id) => (id === 'n2' ? () => Date.now() + 5000 : undefined) });
    await c.connected();
    await vi.waitFor(() => expect(c.node('n1').transport.peerClockSkews().has('n2') && c.node('n2').transport.peerClockSkews().has('n1'), 'clock samples').toBe(true), { ...WAIT, timeout: 5000 });
    const ahead = c.node('n1').transport.peerClockSkews().get('n2')!;
    const behind = c.node('n2').transport.peerClockSkews().get('n1')!;
    expect(Math.abs(ahead.skewMs - 5000)).toBeLessThanOrEqual(ahead.rttMs / 2 + 5);
    expect(Math.abs(behind.skewMs + 5000)).toBeLessThanOrEqual(behind.rttMs / 2 + 5);
  });

  it('updatePeers() drops a removed peer and dials an added one', async () => {
    const c = await cluster(['n1', 'n2', 'n3']);
    await c.connected();
    const n1 = c.node('n1').transport;
    await n1.updatePeers(c.peers().filter((p) => p.id !== 'n3'));
    expect(Object.keys(n1.stats().peers)).toEqual(['n2']);
    n1.send([heartbeat('n1', 'n3', 1)]);
    expect(n1.stats().droppedUnknownPeerMessages).toBe(1);
    await expect(n1.updatePeers([...c.peers(), { id: 'n4', url: 'http://x', publicKey: c.node('n3').keys.publicKey }])).rejects.toThrow(/ws:/);
    expect(Object.keys(n1.stats().peers)).toEqual(['n2']);
    // Overlapping updates apply in order.
    void n1.updatePeers(c.peers().filter((p) => p.id !== 'n2'));
    await n1.updatePeers(c.peers());
    await vi.waitFor(() => expect(n1.stats().peers['n3']?.connected === true && n1.stats().peers['n2']?.connected === true).toBe(true), WAIT);
    n1.send([heartbeat('n1', 'n3', 2)]);
    await vi.waitFor(() => expect(c.node('n3').inbox.length === 1).toBe(true), WAIT);
    expect(c.node('n3').inbox).toEqual([heartbeat('n1', 'n3', 2)]);
  });

  it('accepts raw 32-byte keys as well as KeyObjects', async () => {
    const c = await cluster(['n1']);
    const keys = testKeyPair();
    const rawPrivate = keys.privateKey.export({ format: 'jwk' }).d ?? '';
    const rawPublic = keys.publicKey.export({ format: 'jwk' }).x ?? '';
    const n2 = new PeerTransport({
      nodeId: 'n2',
      listen: { host: '127.0.0.1', port: 0 },
      identity: { privateKey: Buffer.from(rawPrivate, 'base64url'), publicKey: Buffer.from(rawPublic, 'base64url') },
      peers: [{ id: 'n1', url: `ws://127.0.0.1:${c.node('n1').port}/raft`, publicKey: c.node('n1').keys.publicKey }],
      logger: new RecordingLogger(),
    });
    stops.push(() => n2.stop());
    await n2.start();
    await c.node('n1').transport.updatePeers([...c.peers(), { id: 'n2', url: `ws://127.0.0.1:${n2.address().port}/raft`, publicKey: new Uint8Array(Buffer.from(rawPublic, 'base64url')) }]);
    n2.send([heartbeat('n2', 'n1', 5)]);
    await vi.waitFor(() => expect(c.node('n1').inbox.length === 1).toBe(true), WAIT);
    expect(() => new PeerTransport({ nodeId: 'x', listen: { host: '127.0.0.1', port: 0 }, identity: { privateKey: testKeyPair().privateKey, publicKey: keys.publicKey }, peers: [] })).toThrow(/does not match/);
  });

  it('dials wss:// peers attached to an https server, trusting the configured CA', async () => {
    const server = createHttpsServer({ cert: TEST_CERT, key: TEST_CERT_KEY });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const [k1, k2] = [testKeyPair(), testKeyPair()];
    const n1 = new PeerTransport({ nodeId: 'n1', listen: server, identity: k1, peers: [], logger: new RecordingLogger() });
    stops.push(() => n1.stop());
    const port = (await n1.start()).port;
    const peers = [{ id: 'n1', url: `wss://127.0.0.1:${port}/raft`, publicKey: k1.publicKey }];
    const n2 = new PeerTransport({ nodeId: 'n2', listen: { host: '127.0.0.1', port: 0 }, identity: k2, peers, logger: new RecordingLogger(), tlsCa: TEST_CERT });
    stops.push(() => n2.stop());
    await n2.start();
    await n1.updatePeers([...peers, { id: 'n2', url: `ws://127.0.0.1:${n2.address().port}/raft`, publicKey: k2.publicKey }]);
    const inbox: Message[] = [];
    n1.onMessages((messages) => inbox.push(...messages));
    n2.send([heartbeat('n2', 'n1', 3)]);
    await vi.waitFor(() => expect(inbox.length === 1).toBe(true), WAIT);
    expect(inbox).toEqual([heartbeat('n2', 'n1', 3)]);
    // Without the CA, the certificate is refused and nothing connects.
    const untrusting = new PeerTransport({ nodeId: 'n2', listen: { host: '127.0.0.1', port: 0 }, identity: k2, peers, logger: new RecordingLogger() });
    stops.push(() => untrusting.stop());
    await untrusting.start();
    await vi.waitFor(() => expect((untrusting.stats().peers['n1']?.dialFailures ?? 0) >= 1).toBe(true), WAIT);
    expect(untrusting.stats().peers['n1']?.connected).toBe(false);
  });

  it('attaches to an existing http server and leaves its other upgrade paths alone', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const keys = testKeyPair();
    const attached = new PeerTransport({ nodeId: 'n1', listen: server, identity: keys, peers: [], logger: new RecordingLogger() });
    stops.push(() => attached.stop());
    const { port } = await attached.start();
    expect(port).toBe((server.address() as AddressInfo).port);
    const client = await rawClient(port);
    expect(decodeHandshake(client.texts[0] ?? '', 'challenge')?.nodeId).toBe('n1');
    await attached.stop();
    expect(server.listening).toBe(true);
  });
});
